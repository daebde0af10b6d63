"""A visit's life on the server: events folded in any order, undo as an event, never a deletion."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from qualivilles.protocol import RecordKind, VisitEvent
from qualivilles.visits import Event, fold
from tests.fixtures.server import LONG_AGO, bearer, enrolled_token, make_record, sync_body
from tests.tools.server_reads import row_count, stored_rows
from tests.tools.sync_upload import upload

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def token(app_client) -> str:
    # A desk's tablet (visit events come from it), enrolled long ago: the tests upload records
    # captured on fixed past dates.
    return enrolled_token(app_client, mode="tablet", enrolled_at=LONG_AGO)


def _event(name: str, minutes: float, id_: str | None = None, **extra) -> Event:
    return Event(
        id=id_ or str(uuid.uuid4()),
        event=VisitEvent(name),
        at=T0 + timedelta(minutes=minutes),
        **extra,
    )


def test_undo_of_a_take_in_charge_puts_the_visit_back_in_the_queue_in_any_order():
    arrived = _event("arrived", 0, ticket="A-001")
    taken = _event("taken_in_charge", 3, wait_seconds=180.0)
    undo = _event("cancelled", 3.1, cancels=taken.id)
    taken_again = _event("taken_in_charge", 9, wait_seconds=540.0)
    for order in itertools.permutations([arrived, taken, undo]):
        assert fold(list(order)).outcome == "waiting"
    for order in itertools.permutations([arrived, taken, undo, taken_again]):
        state = fold(list(order))
        assert (state.outcome, state.wait_seconds, state.ticket) == ("served", 540.0, "A-001")


def test_undo_of_the_arrival_voids_the_visit_and_a_bare_cancel_too():
    arrived = _event("arrived", 0)
    assert fold([arrived, _event("cancelled", 0.1, cancels=arrived.id)]).outcome == "cancelled"
    assert fold([arrived, _event("cancelled", 0.1)]).outcome == "cancelled"
    taken = _event("taken_in_charge", 2, wait_seconds=120.0)
    state = fold([arrived, taken, _event("cancelled", 0.1, cancels=arrived.id)])
    assert (state.outcome, state.wait_seconds) == ("cancelled", None)


def _visit_record(event: str, visit_id: str, at: datetime, **extra):
    payload = {"visit_id": visit_id, "event": event, **extra}
    return make_record(payload, kind=RecordKind.VISIT_EVENT, at=at)


def test_a_late_take_in_charge_and_its_undo_update_one_visit_without_duplicating(
    app_client, server_storage, token
):
    visit_id = str(uuid.uuid4())
    arrived = _visit_record("arrived", visit_id, T0, ticket="A-017", reason="passeport")
    upload(app_client, token, arrived)
    assert stored_rows(server_storage, "visits", "outcome") == [("waiting",)]
    taken = _visit_record(
        "taken_in_charge", visit_id, T0 + timedelta(minutes=4), wait_seconds=240.0
    )
    upload(app_client, token, taken)
    undo = _visit_record(
        "cancelled", visit_id, T0 + timedelta(minutes=4, seconds=5), cancels=str(taken.id)
    )
    upload(app_client, token, undo, taken)  # the retry of `taken` is a duplicate
    assert stored_rows(server_storage, "visits", "outcome", "wait_seconds") == [("waiting", None)]
    again = _visit_record(
        "taken_in_charge", visit_id, T0 + timedelta(minutes=6), wait_seconds=360.0
    )
    response = app_client.post(
        "/api/v1/sync", json=sync_body(again, arrived), headers=bearer(token)
    )
    assert [a["status"] for a in response.json()["acknowledged"]] == ["stored", "duplicate"]
    assert stored_rows(server_storage, "visits", "outcome", "wait_seconds", "ticket") == [
        ("served", 360.0, "A-017")
    ]
    assert row_count(server_storage, "visit_events") == 4
