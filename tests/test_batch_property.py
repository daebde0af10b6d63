"""No input can stop the figures, as a property.

Hypothesis sends batches that mix valid records with records holding arbitrary JSON in any one
field (huge integers, `Infinity`, lone surrogates, absurd dates, nested values, another record's
id) and sometimes a damaged envelope. Whatever it sends:
- the server never answers 5xx; a batch gets 200 with one ack per nameable record, in order,
  unless its envelope is unusable (a 4xx problem, and nothing of it stored);
- every valid record is stored; every refused one has a documented code and is not stored;
- after each batch, the figures, the configuration, the health and the dashboard pages answer;
  after them all, the PDFs, the exports and a restart on the same database do too.
"""

from __future__ import annotations

import copy
import json
import math
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualivilles.protocol import RecordKind, new_record_id, payload_hash
from sync_server.app import create_app
from sync_server.indicators.periods import containing
from tests.fixtures.server import (
    SERVICE,
    answer_payload,
    bearer,
    enrolled_token,
    log_in_client,
    open_town_storage,
)
from tests.tools.server_reads import record_ids

API_DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"
LEVELS = ["very_satisfied", "satisfied", "dissatisfied", "very_dissatisfied"]

# Values at the edges of what each kind of field holds, drawn most often; any JSON value
# Python's `json` writes otherwise, the ones no device should send included.
TIMES = [
    "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z",
    "2000-01-01T00:00:00", "2026-02-30T10:00:00Z", "2100-01-01T00:00:00+14:00", 0,
]  # fmt: skip
INTEGERS = [2**53 - 1, 2**53, 2**63, -(2**63) - 1, 2**64, -1, 0, 1.5, 1e308, math.inf, "1"]
NUMBERS = [1e308, math.inf, -math.inf, math.nan, -1, 86_400, 86_400.5, 2**63, 0, "60"]
TEXTS = ["\ud800", "a\x00b", "", "x" * 3000, "phone", "tablet", "visit_event", "é" * 70]
UUIDS = ["00000000-0000-0000-0000-000000000000", "not-a-uuid", "\ud800", 7]
ANSWERS = [
    {"overall": "\ud800"}, {"overall": 2**64}, {"overall": ["satisfied"] * 50},
    {"\ud800": "satisfied"}, {"nowhere": "satisfied"}, {"overall": None}, {"overall": 1e308},
    {"overall": "a\x00b"}, {"waited": 2**53}, {},
]  # fmt: skip
EDGES = {
    "id": UUIDS, "kind": TEXTS, "payload_hash": TEXTS, "device_time": TIMES, "sent_at": TIMES,
    "monotonic_ms": INTEGERS, "survey_version": INTEGERS, "protocol": INTEGERS,
    "survey_id": TEXTS, "channel": TEXTS, "language": TEXTS, "status": TEXTS, "event": TEXTS,
    "comment": TEXTS, "ticket": TEXTS, "reason": TEXTS, "visit_id": UUIDS, "cancels": UUIDS,
    "answers": ANSWERS, "wait_seconds": NUMBERS, "suspect": ["yes", 2, None],
}  # fmt: skip
ANY = [*INTEGERS, *NUMBERS, *TIMES, *TEXTS, None, True, [], {}]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(st.characters(codec=None), max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(st.characters(codec=None), max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def values_for(field: str) -> st.SearchStrategy[Any]:
    edges = st.sampled_from(EDGES.get(field, ANY))
    return st.one_of(edges, edges, json_values, st.just(_DROP))


RECORD_FIELDS = ["id", "kind", "payload_hash", "device_time", "monotonic_ms", "payload", "extra"]
ANSWER_FIELDS = [
    "survey_id", "survey_version", "channel", "language", "status", "suspect", "answers",
    "comment", "visit_id", "extra",
]  # fmt: skip
VISIT_FIELDS = ["visit_id", "event", "ticket", "reason", "wait_seconds", "cancels", "extra"]
ENVELOPE_FIELDS = ["protocol", "sent_at", "records", "extra"]


def documented_rejection_codes() -> set[str]:
    """The codes of the rejection table in docs/api.md."""
    section = API_DOC.read_text(encoding="utf-8").split("Rejection codes", 1)[1]
    table = section.split("\n\n", 2)[1]
    return set(re.findall(r"^\| `([a-z_]+)`", table, flags=re.MULTILINE))


def seal(kind: RecordKind, payload: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {
        "id": new_record_id(),
        "kind": kind.value,
        "payload_hash": payload_hash(payload),
        "device_time": at.isoformat(),
        "monotonic_ms": 1000,
        "payload": payload,
    }


@st.composite
def valid_records(draw: st.DrawFn) -> dict[str, Any]:
    at = datetime.now(UTC) - timedelta(seconds=draw(st.integers(1, 3600)))
    if draw(st.booleans()):
        payload = answer_payload(draw(st.sampled_from(LEVELS)))
        if draw(st.booleans()):
            payload["comment"] = draw(st.text(st.characters(codec="utf-8"), max_size=40))
        return seal(RecordKind.ANSWER, payload, at)
    event = draw(st.sampled_from(["arrived", "taken_in_charge", "walked_out"]))
    payload: dict[str, Any] = {"visit_id": str(uuid.uuid4()), "event": event}
    if event != "arrived":
        payload["wait_seconds"] = draw(st.floats(0, 3600))
    return seal(RecordKind.VISIT_EVENT, payload, at)


_DROP = object()  # the field removed rather than replaced


def _put(target: dict[str, Any], field: str, value: Any) -> None:
    name = "colour" if field == "extra" else field  # "extra": a field no model knows
    if value is _DROP:
        target.pop(name, None)
    else:
        target[name] = value


@st.composite
def damaged_records(draw: st.DrawFn, earlier_ids: list[str]) -> dict[str, Any]:
    """A valid record with one field, of the record or of its payload, replaced by an edge value
    or any JSON value, or dropped; its hash most often recomputed so that the damage reaches the
    payload's own checks. An id may also be an earlier record's."""
    record = draw(valid_records())
    if draw(st.booleans()):
        fields = ANSWER_FIELDS if record["kind"] == RecordKind.ANSWER else VISIT_FIELDS
        field = draw(st.sampled_from(fields))
        _put(record["payload"], field, draw(values_for(field)))
        try:
            if draw(st.integers(0, 3)) > 0:
                record["payload_hash"] = payload_hash(record["payload"])
        except (UnicodeEncodeError, ValueError):
            pass  # a lone surrogate has no UTF-8 form to hash
        return record
    field = draw(st.sampled_from(RECORD_FIELDS))
    value = draw(values_for(field))
    if field == "id" and earlier_ids and draw(st.booleans()):
        value = draw(st.sampled_from(earlier_ids))
    _put(record, field, value)
    return record


@st.composite
def batches(draw: st.DrawFn) -> tuple[dict[str, Any], list[bool], str | None]:
    """A body, which of its records are untouched, and the envelope field damaged if any."""
    records: list[dict[str, Any]] = []
    untouched: list[bool] = []
    for _ in range(draw(st.integers(1, 6))):
        earlier = [r["id"] for r in records if isinstance(r.get("id"), str)]
        valid = draw(st.integers(0, 2)) == 0
        records.append(draw(valid_records() if valid else damaged_records(earlier)))
        untouched.append(valid)
    body: dict[str, Any] = {"protocol": 1, "sent_at": datetime.now(UTC).isoformat()}
    body["records"] = records
    damaged = draw(st.sampled_from(ENVELOPE_FIELDS)) if draw(st.integers(0, 9)) == 0 else None
    if damaged:
        _put(body, damaged, draw(values_for(damaged)))
    return body, untouched, damaged


def readable_id(record: Any) -> str | None:
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        return None
    try:
        return str(uuid.UUID(record["id"]))
    except ValueError:
        return None


class Fleet:
    """A kiosk and a tablet of the demo desk, and a signed-in quality manager."""

    def __init__(self, client: TestClient):
        self.client = client
        self.kiosk = enrolled_token(client)
        self.tablet = enrolled_token(client, mode="tablet")
        log_in_client(client, "qualite")

    def send(self, body: dict[str, Any], token: str):
        # Python's own JSON: `Infinity`, `NaN` and `\ud800` escapes written as they come.
        headers = {**bearer(token), "Content-Type": "application/json"}
        return self.client.post("/api/v1/sync", content=json.dumps(body), headers=headers)


def check_batch(
    fleet: Fleet, body: dict[str, Any], untouched: list[bool], damaged: str | None, token: str
) -> None:
    storage = fleet.client.app.state.storage
    before = set(record_ids(storage))
    sent = copy.deepcopy(body)
    response = fleet.send(body, token)
    assert response.status_code < 500, response.text
    after = set(record_ids(storage))
    if response.status_code != 200:
        assert damaged, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] in {"invalid_body", "invalid_json", "too_deep"}
        assert after == before
        return
    acks = response.json()["acknowledged"]
    if damaged == "records":  # replaced by another list that still makes a batch: e.g. []
        assert len(acks) <= len(sent["records"])
        return
    pairs = zip(sent["records"], untouched, strict=True)
    named = [(record, ok) for record, ok in pairs if readable_id(record)]
    ids = [readable_id(record) for record, _ in named]
    assert [ack["id"] for ack in acks] == ids
    codes = documented_rejection_codes()
    for (record, ok), ack in zip(named, acks, strict=True):
        assert ack["status"] in {"stored", "duplicate", "conflict", "rejected"}, ack
        if ok:
            assert (ack["status"], ack["code"]) == expected_ack(record, token == fleet.tablet)
        if ack["status"] == "rejected":
            assert ack["code"] in codes, ack
            if ack["id"] not in before and ids.count(ack["id"]) == 1:
                assert ack["id"] not in after, ack
        if ack["status"] in {"stored", "duplicate"}:
            assert ack["id"] in after, ack


def expected_ack(record: dict[str, Any], from_tablet: bool) -> tuple[str, str | None]:
    """A valid record is stored, a visit event from a kiosk excepted."""
    if record["kind"] == RecordKind.VISIT_EVENT and not from_tablet:
        return "rejected", "visit_events_from_tablets_only"
    return "stored", None


FORMATS = ("csv", "xlsx")
PAGES = ["/", f"/service/{SERVICE}", "/comments", "/fleet", "/review", "/targets", "/codes"]
FILES = [
    "/reports/monthly.pdf",
    "/reports/annual.pdf",
    *(f"/export/{what}.{fmt}" for what in ("answers", "visits", "indicators") for fmt in FORMATS),
]


def assert_reads_succeed(client: TestClient, device_token: str, paths: list[str]) -> None:
    month = f"{datetime.now(UTC):%Y-%m}"
    figures = client.get("/api/v1/indicators", params={"from": month, "to": month})
    assert figures.status_code == 200, figures.text
    assert client.get("/api/v1/health").status_code == 200
    assert client.get("/api/v1/config", headers=bearer(device_token)).status_code == 200
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
    # This quarter's poster: printed when the desk has answers, a clear refusal otherwise.
    quarter = containing("quarter", datetime.now(UTC).date()).key
    poster = client.get(f"/reports/poster/{SERVICE}.pdf?quarter={quarter}")
    assert poster.status_code in (200, 404), poster.text[:300]
    assert poster.status_code == 200 or "aucun avis" in poster.text


def run_batches(fleet: Fleet, examples: int) -> Callable[[], None]:
    """The property over `examples` batches; the figures and configuration read after each."""

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(batch=batches(), from_tablet=st.booleans())
    def property_holds(batch, from_tablet):
        body, untouched, damaged = batch
        token = fleet.tablet if from_tablet else fleet.kiosk
        check_batch(fleet, body, untouched, damaged, token)
        assert_reads_succeed(fleet.client, token, [])

    return property_holds


def test_no_batch_stops_the_server_nor_its_reads(server_settings, app_client):
    fleet = Fleet(app_client)
    # Each example is a whole upload and its reads through the app (about a second on CI):
    # 100 batches of up to six records, one in ten with a damaged envelope, keep the run short.
    run_batches(fleet, examples=100)()
    assert_reads_succeed(app_client, fleet.kiosk, [*PAGES, *FILES])
    # A restart on that database: migrations, the town file, then every read again.
    restarted_storage = open_town_storage(server_settings)
    try:
        with TestClient(create_app(server_settings, restarted_storage)) as restarted:
            log_in_client(restarted, "qualite")
            assert_reads_succeed(restarted, fleet.tablet, [*PAGES, *FILES])
    finally:
        restarted_storage.close()


def test_the_rejection_codes_are_read_from_the_documentation():
    assert documented_rejection_codes() >= {"invalid_record", "hash_mismatch", "time_out_of_range"}
