"""One malformed record in a batch is rejected alone; only an unusable envelope refuses it all."""

from __future__ import annotations

import pytest

from qualivilles.protocol import MAX_RECORDS_PER_BATCH, Ack, SyncResponse
from sync_server.api.batch import Batch, parse_data
from tests.fixtures.server import answer_payload, bearer, enrolled_token, make_record, sync_body
from tests.tools.server_reads import record_ids


@pytest.fixture
def token(app_client) -> str:
    return enrolled_token(app_client)


def stored_ids(client) -> set[str]:
    return set(record_ids(client.app.state.storage))


def post(client, token, body):
    return client.post("/api/v1/sync", json=body, headers=bearer(token))


def test_a_malformed_record_envelope_is_rejected_alone(app_client, token):
    good = [make_record(answer_payload()) for _ in range(3)]
    poison = make_record(answer_payload())
    body = sync_body(good[0], poison, good[1], good[2])
    body["records"][1]["monotonic_ms"] = "soon"  # wrong type
    body["records"][1]["colour"] = "blue"  # unknown field
    response = post(app_client, token, body)
    assert response.status_code == 200, response.text
    acks = SyncResponse.model_validate(response.json()).acknowledged
    assert [ack.id for ack in acks] == [good[0].id, poison.id, good[1].id, good[2].id]
    assert [ack.status for ack in acks] == ["stored", "rejected", "stored", "stored"]
    rejected = acks[1]
    assert rejected.code == "invalid_record"
    assert "records.1.monotonic_ms" in rejected.detail
    assert "records.1.colour" in rejected.detail
    assert stored_ids(app_client) == {str(record.id) for record in good}


@pytest.mark.parametrize(
    "damage",
    [
        lambda r: r.pop("payload_hash"),
        lambda r: r.update(device_time="yesterday"),
        lambda r: r.update(kind="photo"),
        lambda r: r.update(payload=["not", "an", "object"]),
        lambda r: r.update(monotonic_ms=-1),
    ],
    ids=["missing-hash", "bad-time", "unknown-kind", "payload-not-object", "negative-monotonic"],
)
def test_each_kind_of_broken_record_is_rejected_by_id(app_client, token, damage):
    good, poison = make_record(answer_payload()), make_record(answer_payload())
    body = sync_body(poison, good)
    damage(body["records"][0])
    acks = post(app_client, token, body).json()["acknowledged"]
    assert [(a["id"], a["status"], a["code"]) for a in acks] == [
        (str(poison.id), "rejected", "invalid_record"),
        (str(good.id), "stored", None),
    ]


def test_a_record_without_a_readable_id_gets_no_ack_and_blocks_nothing(app_client, token):
    good = make_record(answer_payload())
    body = sync_body(good)
    body["records"] = [{"id": "not-a-uuid", "kind": "answer"}, 42, *body["records"]]
    response = post(app_client, token, body)
    assert response.status_code == 200
    # Nothing can name those two, so they get no ack and the device keeps them.
    assert [(a["id"], a["status"]) for a in response.json()["acknowledged"]] == [
        (str(good.id), "stored")
    ]
    assert stored_ids(app_client) == {str(good.id)}


def test_a_rejected_record_does_not_stop_a_duplicate_being_recognised(app_client, token):
    record = make_record(answer_payload())
    post(app_client, token, sync_body(record))
    poison = make_record(answer_payload())
    body = sync_body(poison, record)
    body["records"][0]["device_time"] = None
    acks = post(app_client, token, body).json()["acknowledged"]
    assert [a["status"] for a in acks] == ["rejected", "duplicate"]


@pytest.mark.parametrize(
    "envelope",
    [
        {"records": []},  # no sent_at
        {"sent_at": "soon", "records": []},
        {"sent_at": "2026-03-02T09:00:00Z", "records": {"a": 1}},
        {"sent_at": "2026-03-02T09:00:00Z", "records": [], "protocol": 2},
        {"sent_at": "2026-03-02T09:00:00Z", "records": [], "extra": True},
        "a string",
    ],
    ids=["no-sent-at", "bad-sent-at", "records-not-list", "protocol-2", "extra-field", "string"],
)
def test_an_unusable_envelope_refuses_the_whole_batch(app_client, token, envelope):
    response = post(app_client, token, envelope)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_body"


def test_an_envelope_error_also_names_the_records_errors(app_client, token):
    body = sync_body(make_record(answer_payload()))
    body["records"][0]["colour"] = "blue"
    body["sent_at"] = "soon"
    problem = post(app_client, token, body).json()
    assert {error["path"] for error in problem["errors"]} == {"sent_at", "records.0.colour"}
    assert stored_ids(app_client) == set()


def test_a_batch_over_the_record_bound_is_refused(app_client, token):
    record = make_record(answer_payload())
    body = sync_body(*[record] * (MAX_RECORDS_PER_BATCH + 1))
    response = post(app_client, token, body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "records"
    assert stored_ids(app_client) == set()


def test_acks_merge_back_in_the_order_sent():
    first, second = make_record(answer_payload()), make_record(answer_payload())
    data = sync_body(first, second)
    data["records"].insert(1, {"id": "00000000-0000-7000-8000-000000000001", "kind": "x"})
    data["records"].append("nameless")
    batch = parse_data(data)
    assert isinstance(batch, Batch)
    assert [r.id for r in batch.records] == [first.id, second.id]
    stored = [
        {"id": str(first.id), "status": "stored"},
        {"id": str(second.id), "status": "duplicate"},
    ]
    merged = batch.acks([Ack.model_validate(a) for a in stored])
    assert [(str(a.id), a.status) for a in merged] == [
        (str(first.id), "stored"),
        ("00000000-0000-7000-8000-000000000001", "rejected"),
        (str(second.id), "duplicate"),
    ]
