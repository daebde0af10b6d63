"""Bounds declared once in the shared protocol: a record outside them is refused on its own.

Integers within ±(2^53 - 1), finite numbers, waits within a day, text of Unicode scalar values
with NUL removed. A batch holding one record outside a bound is answered 200: that record
`rejected` with its code, its valid neighbours stored, and the figures still readable after.
"""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from qualivilles.protocol import (
    MAX_SAFE_INTEGER,
    MAX_WAIT_SECONDS,
    BoundedObject,
    Finite,
    RecordKind,
    SafeInt,
    Text,
    WaitSeconds,
    canonical_json,
    new_record_id,
    payload_hash,
)
from sync_server.storage import health as fleet_health
from tests.fixtures.server import (
    answer_payload,
    bearer,
    enrolled_token,
    log_in_client,
    make_record,
    sync_body,
)
from tests.tools.server_reads import record_ids, row_count


@pytest.fixture
def token(app_client) -> str:
    return enrolled_token(app_client)


def raw_record(payload: dict[str, Any], kind: RecordKind = RecordKind.ANSWER) -> dict[str, Any]:
    """A record as a buggy device could send it: not built through the protocol models."""
    try:
        digest = payload_hash(payload)
    except UnicodeEncodeError:  # a lone surrogate has no UTF-8 form to hash
        digest = "0" * 64
    return {
        "id": new_record_id(),
        "kind": kind.value,
        "payload_hash": digest,
        "device_time": datetime.now(UTC).isoformat(),
        "monotonic_ms": 1000,
        "payload": payload,
    }


def post_raw(client, token, body: dict[str, Any]):
    """JSON as Python writes it: `Infinity`, `NaN` and `\\ud800` escapes left in."""
    return client.post(
        "/api/v1/sync",
        content=json.dumps(body),
        headers={**bearer(token), "Content-Type": "application/json"},
    )


def assert_refused_alone(client, token, bad: dict[str, Any], code: str) -> None:
    good = make_record(answer_payload())
    body = sync_body(good)
    body["records"].insert(0, bad)
    response = post_raw(client, token, body)
    assert response.status_code == 200, response.text
    acks = response.json()["acknowledged"]
    assert [(ack["id"], ack["status"]) for ack in acks] == [
        (bad["id"], "rejected"),
        (str(good.id), "stored"),
    ]
    assert acks[0]["code"] == code, acks[0]
    assert set(record_ids(client.app.state.storage)) == {str(good.id)}
    assert_figures_readable(client)


def assert_figures_readable(client) -> None:
    log_in_client(client, "qualite")
    month = f"{datetime.now(UTC):%Y-%m}"
    response = client.get("/api/v1/indicators", params={"from": month, "to": month})
    assert response.status_code == 200, response.text
    assert client.get("/api/v1/health").status_code == 200


def visit_event(**fields: Any) -> dict[str, Any]:
    return raw_record(
        {"visit_id": str(uuid.uuid4()), "event": "taken_in_charge", **fields},
        RecordKind.VISIT_EVENT,
    )


def test_a_monotonic_time_beyond_53_bits_is_refused_alone(app_client, token):
    bad = raw_record(answer_payload())
    bad["monotonic_ms"] = 2**63
    assert_refused_alone(app_client, token, bad, "invalid_record")


def test_a_survey_version_beyond_53_bits_is_refused_alone(app_client, token):
    bad = raw_record(answer_payload(survey_version=2**64))
    assert_refused_alone(app_client, token, bad, "invalid_record")


def test_a_wait_of_1e308_seconds_is_refused_alone(app_client, token):
    bad = visit_event(wait_seconds=1e308)
    assert_refused_alone(app_client, token, bad, "invalid_payload")
    assert row_count(app_client.app.state.storage, "visits") == 0


def test_a_wait_over_a_day_is_refused_but_a_day_is_kept(app_client):
    token = enrolled_token(app_client, mode="tablet")  # visit events come from a desk's tablet
    assert_refused_alone(
        app_client, token, visit_event(wait_seconds=MAX_WAIT_SECONDS + 1), "invalid_payload"
    )
    day = visit_event(wait_seconds=MAX_WAIT_SECONDS)
    response = post_raw(app_client, token, {**sync_body(), "records": [day]})
    assert response.json()["acknowledged"][0]["status"] == "stored", response.text


@pytest.mark.parametrize("wait", [math.inf, -math.inf, math.nan], ids=["inf", "-inf", "nan"])
def test_a_wait_that_is_not_a_finite_number_is_refused_alone(app_client, token, wait):
    assert_refused_alone(app_client, token, visit_event(wait_seconds=wait), "invalid_record")
    assert row_count(app_client.app.state.storage, "visits") == 0


def test_a_lone_surrogate_in_a_comment_is_refused_alone(app_client, token):
    bad = raw_record(answer_payload(comment="merci \ud800"))
    assert_refused_alone(app_client, token, bad, "invalid_record")


def test_a_lone_surrogate_in_an_answer_key_is_refused_alone(app_client, token):
    payload = answer_payload()
    payload["answers"]["\udfff"] = "satisfied"
    assert_refused_alone(app_client, token, raw_record(payload), "invalid_record")


@pytest.mark.parametrize(
    ("damage", "code"),
    [
        (lambda r: r.update(monotonic_ms=True), "invalid_record"),
        (lambda r: r.update(monotonic_ms="1000"), "invalid_record"),
        (lambda r: r.update(monotonic_ms=1000.5), "invalid_record"),
        (lambda r: r["payload"].update(suspect="yes"), "invalid_payload"),
        (lambda r: r["payload"].update(survey_version=True), "invalid_payload"),
    ],
    ids=["monotonic-bool", "monotonic-text", "monotonic-fraction", "suspect-text", "version-bool"],
)
def test_a_number_or_flag_of_another_json_type_is_refused_alone(app_client, token, damage, code):
    """`true` is not 1 and `"1000"` is not a number: lax parsing would store what was not sent."""
    bad = raw_record(answer_payload())
    damage(bad)
    bad["payload_hash"] = payload_hash(bad["payload"])
    assert_refused_alone(app_client, token, bad, code)


@pytest.mark.parametrize("wait", ["60", True], ids=["text", "flag"])
def test_a_wait_sent_as_text_or_flag_is_refused_alone(app_client, wait):
    token = enrolled_token(app_client, mode="tablet")
    assert_refused_alone(app_client, token, visit_event(wait_seconds=wait), "invalid_payload")


def heartbeat(**fields: Any) -> dict[str, Any]:
    return {
        "sent_at": datetime.now(UTC).isoformat(),
        "app_version": "0.5.0",
        "backlog": 0,
        **fields,
    }


def post_heartbeat(client, token, body: dict[str, Any]):
    return client.post(
        "/api/v1/heartbeat",
        content=json.dumps(body),
        headers={**bearer(token), "Content-Type": "application/json"},
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"backlog": 2**63},
        {"held_records": 2**64},
        {"disk_free_bytes": 2**63},
        {"clock_offset_ms": -(2**63)},
        {"oldest_unsent_age_seconds": math.inf},
        {"battery_percent": math.nan},
        {"last_error": "\ud800"},
        {"clock_offset_ms": False},
        {"backlog": "12"},
        {"disk_free_bytes": 1.5},
        {"battery_percent": True},
    ],
    ids=[
        "backlog",
        "held",
        "disk",
        "offset",
        "age-inf",
        "battery-nan",
        "surrogate",
        "offset-bool",
        "backlog-text",
        "disk-fraction",
        "battery-bool",
    ],
)
def test_a_heartbeat_out_of_bounds_is_a_422_problem(app_client, server_storage, token, fields):
    response = post_heartbeat(app_client, token, heartbeat(**fields))
    assert (response.status_code, response.json()["code"]) == (422, "invalid_body"), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert row_count(server_storage, "heartbeats") == 0


def test_nul_is_removed_from_a_heartbeat_error(app_client, server_storage, token):
    response = post_heartbeat(app_client, token, heartbeat(last_error="dns\x00 failed"))
    assert response.status_code == 200, response.text
    with server_storage.read() as connection:
        [health] = fleet_health.fleet(connection)
    assert health.status is not None
    assert health.status.last_error == "dns failed"


# The annotated types themselves -----------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(st.characters(codec=None)),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(st.characters(codec=None), max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


def accepted(adapter: TypeAdapter, value: Any) -> tuple[bool, Any]:
    try:
        return True, adapter.validate_python(value)
    except ValidationError:
        return False, None


def within_bounds(value: Any) -> bool:
    if isinstance(value, dict):
        return all(within_bounds(k) and within_bounds(v) for k, v in value.items())
    if isinstance(value, list):
        return all(within_bounds(item) for item in value)
    if isinstance(value, str | bool) or value is None:  # payload text is kept as it was hashed
        return True
    if isinstance(value, int):
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    return math.isfinite(value)


def round_trips(value: Any) -> bool:
    text = canonical_json(value)
    text.encode("utf-8")  # valid Unicode scalar values only: encodes, never raises
    return json.loads(text) == value


@given(st.integers(min_value=-(2**70), max_value=2**70))
def test_safe_integers_are_exact_in_json(value):
    ok, kept = accepted(TypeAdapter(SafeInt), value)
    assert ok == (abs(value) <= MAX_SAFE_INTEGER)
    if ok:
        assert round_trips(kept)
        assert float(kept) == kept


@given(st.floats())
def test_finite_numbers_and_waits(value):
    ok, kept = accepted(TypeAdapter(Finite), value)
    assert ok == math.isfinite(value)
    if ok:
        assert round_trips(kept)
    ok, kept = accepted(TypeAdapter(WaitSeconds), value)
    assert ok == (math.isfinite(value) and 0 <= value <= MAX_WAIT_SECONDS)
    if ok:
        assert round_trips(kept)


@given(st.text(st.characters(codec=None)))
def test_text_is_unicode_scalar_values_without_nul(value):
    ok, kept = accepted(TypeAdapter(Text), value)
    assert ok == (not any(0xD800 <= ord(char) <= 0xDFFF for char in value))
    if ok:
        assert "\x00" not in kept
        assert kept == value.replace("\x00", "")
        assert round_trips(kept)


@given(st.dictionaries(st.text(st.characters(codec=None), max_size=4), json_values, max_size=4))
def test_a_bounded_object_holds_only_values_json_carries(value):
    ok, kept = accepted(TypeAdapter(BoundedObject), value)
    if ok:
        assert within_bounds(kept)
        assert round_trips(kept)
    else:
        assert not (within_bounds(value) and _encodable(value))


def _encodable(value: Any) -> bool:
    try:
        canonical_json(value).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
