"""`POST /api/v1/sync` on the real app and a temp SQLite database: what is stored, and how."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qualivilles.protocol import RecordKind, VisitEvent, new_record_id
from qualivilles.visits import Event, fold
from sync_server.storage import Source, devices, quality, schema, uploads
from tests.fixtures.server import (
    LONG_AGO,
    SERVICE,
    SITE,
    answer_payload,
    bearer,
    enrolled_token,
    make_record,
    sync_body,
)
from tests.tools.server_reads import row_count, stored_rows
from tests.tools.sync_upload import upload


@pytest.fixture
def token(app_client) -> str:
    # Enrolled long ago: the tests upload records captured on fixed past dates.
    return enrolled_token(app_client, enrolled_at=LONG_AGO)


@pytest.fixture
def tablet(app_client) -> str:
    return enrolled_token(app_client, mode="tablet", enrolled_at=LONG_AGO)


def test_an_answer_is_stored_with_its_main_level_and_items(app_client, server_storage, token):
    record = make_record(
        answer_payload(
            "very_satisfied", answers={"overall": "very_satisfied", "welcome": "satisfied"}
        )
    )
    response = upload(app_client, token, record)
    assert [(a.id, a.status) for a in response.acknowledged] == [(record.id, "stored")]
    columns = ("site", "service", "channel", "main_choice", "main_level", "main_levels")
    [answer] = stored_rows(server_storage, "answers", *columns)
    assert answer == (SITE, SERVICE, "kiosk", "very_satisfied", 3, 4)
    items = stored_rows(
        server_storage, "answer_items", "question_id", "value", order_by="question_id"
    )
    assert items == [("overall", "very_satisfied"), ("welcome", "satisfied")]


def test_no_opinion_is_stored_without_a_level(app_client, server_storage, token):
    upload(app_client, token, make_record(answer_payload("no_opinion")))
    stored = stored_rows(server_storage, "answers", "main_choice", "main_level")
    assert stored == [("no_opinion", None)]


def test_sync_notes_the_device_version_and_clock_offset(app_client, server_storage, token):
    sent_at = datetime.now(UTC) - timedelta(minutes=10)  # the device clock is 10 minutes slow
    app_client.headers["User-Agent"] = "qualivilles-kiosk/1.4.2"
    upload(app_client, token, make_record(answer_payload()), sent_at=sent_at)
    with server_storage.read() as connection:
        [device] = devices.all_devices(connection)
    version, offset, seen = device.app_version, device.clock_offset_ms, device.last_seen_at
    assert version == "1.4.2"
    assert 600_000 <= offset < 660_000
    assert seen is not None


def test_one_bad_record_is_rejected_alone(app_client, server_storage, token):
    good = make_record(answer_payload())
    unknown_field = make_record(answer_payload(mood="sunny"))
    bad_choice = make_record(answer_payload("delighted"))
    unknown_survey = make_record(answer_payload(survey_version=99))
    response = upload(app_client, token, unknown_field, good, bad_choice, unknown_survey)
    acks = {ack.id: ack for ack in response.acknowledged}
    assert acks[good.id].status == "stored"
    assert (acks[unknown_field.id].status, acks[unknown_field.id].code) == (
        "rejected",
        "invalid_payload",
    )
    assert "payload.mood" in acks[unknown_field.id].detail
    assert (acks[bad_choice.id].code, acks[bad_choice.id].status) == ("invalid_answer", "rejected")
    assert "payload.answers.overall" in acks[bad_choice.id].detail
    assert acks[unknown_survey.id].code == "unknown_survey"
    assert row_count(server_storage, "records") == 1
    assert stored_rows(server_storage, "answers", "id") == [(str(good.id),)]


def test_a_payload_that_does_not_match_its_hash_is_rejected(app_client, server_storage, token):
    record = make_record(answer_payload("satisfied"))
    tampered = record.model_copy(update={"payload": answer_payload("very_dissatisfied")})
    [ack] = upload(app_client, token, tampered).acknowledged
    assert (ack.status, ack.code) == ("rejected", "hash_mismatch")
    assert row_count(server_storage, "records") == 0


def test_comments_are_scrubbed_and_flagged(app_client, server_storage, token):
    comment = "Rappelez-moi au 06 12 34 56 78 ou jean.dupont@example.fr svp"
    record = make_record(answer_payload(comment=comment))
    upload(app_client, token, record)
    with server_storage.read() as connection:
        [entry] = quality.register(connection)
    text, flagged = entry.text, entry.flagged
    assert "06 12" not in text
    assert "example.fr" not in text
    assert "Rappelez-moi" in text
    assert flagged == 1
    [(stored, stored_hash)] = stored_rows(server_storage, "records", "payload", "payload_hash")
    # The record log keeps the hash of what was sent, so a retry is still a duplicate, but not
    # the phone number itself.
    assert "06 12" not in stored
    assert "Rappelez-moi" in stored
    again = app_client.post("/api/v1/sync", json=sync_body(record), headers=bearer(token))
    assert again.json()["acknowledged"][0]["status"] == "duplicate"
    assert stored_hash == record.payload_hash


def visit(event: str, visit_id: str, at: datetime, **extra):
    payload = {"visit_id": visit_id, "event": event, **extra}
    return make_record(payload, kind=RecordKind.VISIT_EVENT, at=at)


def test_visit_events_fold_into_a_visit_in_any_order(app_client, server_storage, tablet):
    visit_id = str(uuid.uuid4())
    arrival = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    taken = visit("taken_in_charge", visit_id, arrival + timedelta(minutes=7))
    arrived = visit("arrived", visit_id, arrival, ticket="A12")
    upload(app_client, tablet, taken)  # the "taken in charge" arrives first
    [(outcome, wait)] = stored_rows(server_storage, "visits", "outcome", "wait_seconds")
    assert (outcome, wait) == ("served", None)  # no arrival yet: wait unknown
    upload(app_client, tablet, arrived)
    [(outcome, wait, ticket, arrived_at)] = stored_rows(
        server_storage, "visits", "outcome", "wait_seconds", "ticket", "arrived_at"
    )
    assert (outcome, wait, ticket) == ("served", 420.0, "A12")
    assert f"{arrived_at:%Y-%m-%d %H:%M}" == "2026-03-02 09:00"


def test_the_monotonic_wait_wins_over_wall_clocks(app_client, server_storage, tablet):
    visit_id = str(uuid.uuid4())
    arrival = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    upload(
        app_client,
        tablet,
        visit("arrived", visit_id, arrival),
        visit("walked_out", visit_id, arrival + timedelta(hours=1), wait_seconds=95.5),
    )
    visits = stored_rows(server_storage, "visits", "outcome", "wait_seconds")
    assert visits == [("walked_out", 95.5)]


def test_a_visit_still_waiting(app_client, server_storage, tablet):
    upload(app_client, tablet, visit("arrived", str(uuid.uuid4()), datetime.now(UTC)))
    assert stored_rows(server_storage, "visits", "outcome", "taken_at") == [("waiting", None)]


def test_the_phone_survey_source_has_no_device(server_storage):
    record = make_record(answer_payload(channel="phone"))
    source = Source(site=SITE, service=SERVICE, channel="phone")
    [ack] = uploads.store_batch(server_storage, [record], source)
    assert ack.status == "stored"
    with server_storage.read() as connection:
        assert schema.row_count(connection, "answers") == 1
        assert devices.all_devices(connection) == []


def test_a_batch_repeating_an_id_stores_it_once(server_storage):
    record = make_record(answer_payload())
    source = Source(site=SITE, service=SERVICE, channel="kiosk")
    acks = uploads.store_batch(server_storage, [record, record], source)
    assert [ack.status for ack in acks] == ["stored", "duplicate"]
    with server_storage.read() as connection:
        assert schema.row_count(connection, "answers") == 1


def test_new_record_ids_are_accepted_as_sent(app_client, token):
    record_id = new_record_id()
    [ack] = upload(
        app_client, token, make_record(answer_payload(), record_id=record_id)
    ).acknowledged
    assert str(ack.id) == record_id


def test_visit_fold_does_not_depend_on_arrival_order():
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    events = st.lists(
        st.builds(
            Event,
            id=st.uuids().map(str),
            event=st.sampled_from(list(VisitEvent)),
            at=st.integers(0, 7200).map(lambda s: start + timedelta(seconds=s)),
            wait_seconds=st.none() | st.floats(0, 7200),
        ),
        min_size=1,
        max_size=6,
    )

    @given(events, st.randoms())
    def check(items, random):
        shuffled = list(items)
        random.shuffle(shuffled)
        state = fold(shuffled)
        assert state == fold(items)
        assert state.wait_seconds is None or state.wait_seconds >= 0
        assert (state.outcome == "waiting") == all(e.event == "arrived" for e in items)

    check()
