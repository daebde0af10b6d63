"""The agent tablet's queue rules on a real store file, with a manual clock (no sleeping)."""

from __future__ import annotations

import json
import random
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.core.clock import ManualClock
from kiosk.core.store import KioskStore
from kiosk.core.wait_queue import (
    UndoNotPossible,
    VisitNotWaiting,
    VisitStatus,
    WaitQueue,
    fold,
    seconds_between,
)
from qualivilles import visits as server_visits
from qualivilles.protocol import RecordKind, VisitEvent, VisitEventPayload

PARIS = ZoneInfo("Europe/Paris")
MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
HOURS = {"mon": [["08:30", "12:00"], ["13:30", "17:30"]]}


@pytest.fixture
def clock():
    return ManualClock(start=MONDAY_9)


@pytest.fixture
def store(tmp_path, clock):
    with KioskStore(tmp_path / "tablet.db", clock) as opened:
        yield opened


def _outbox_events(store: KioskStore) -> list[dict]:
    rows = store.db.query("SELECT kind, payload FROM outbox ORDER BY seq")
    return [json.loads(r["payload"]) for r in rows if r["kind"] == RecordKind.VISIT_EVENT]


def test_arrivals_get_the_days_next_ticket_and_are_durable_at_once(store, clock):
    queue = WaitQueue(store, clock)
    first = queue.arrive("passeport")
    second = queue.arrive()
    assert (first.ticket, second.ticket) == ("A-001", "A-002")
    assert [e["event"] for e in _outbox_events(store)] == ["arrived", "arrived"]
    assert _outbox_events(store)[0]["reason"] == "passeport"
    # Another store on the same file (as after a kill) sees them already.
    with KioskStore(store.path, clock) as other:
        assert [v.ticket for v in WaitQueue(other, clock).waiting()] == ["A-001", "A-002"]
    clock.set_wall_time(datetime(2026, 3, 3, 9, 0, tzinfo=PARIS))  # the next day
    assert queue.arrive().ticket == "A-001"


def test_the_wait_is_monotonic_even_if_the_wall_clock_jumps(store, clock):
    queue = WaitQueue(store, clock)
    visit = queue.arrive()
    clock.advance(7 * 60)
    clock.set_wall_time(MONDAY_9 - timedelta(hours=1))  # someone sets the clock back
    served = queue.take_in_charge(visit.id)
    assert (served.status, served.wait_seconds, served.wait_estimated) == ("served", 420.0, False)
    assert _outbox_events(store)[-1]["wait_seconds"] == 420.0


def test_after_a_reboot_the_wait_falls_back_to_wall_clocks_and_is_flagged(store, clock):
    queue = WaitQueue(store, clock)
    visit = queue.arrive()
    clock.advance(120)
    clock.reboot()  # monotonic restarts at 0
    clock.advance(60)
    queue = WaitQueue(store, clock)
    assert queue.elapsed(queue.visit(visit.id)).estimated is True
    assert queue.elapsed(queue.visit(visit.id)).seconds == 180.0
    served = queue.take_in_charge(visit.id)
    assert (served.wait_seconds, served.wait_estimated) == (180.0, True)
    # The wire carries no monotonic wait: the server corrects wall times itself.
    assert _outbox_events(store)[-1]["wait_seconds"] is None


def test_a_reboot_with_a_larger_uptime_is_still_a_reboot(store, clock):
    start = seconds_between
    queue = WaitQueue(store, clock)
    visit = queue.arrive()
    clock.reboot(monotonic_ms=10_000_000)  # the new boot's monotonic clock is already ahead
    clock.advance(30)
    assert start(visit.arrived, queue.now()) == (30.0, True)


def test_walk_out_and_undo_within_the_window(store, clock):
    queue = WaitQueue(store, clock)
    visit = queue.arrive()
    clock.advance(30)
    queue.walked_out(visit.id)
    clock.advance(4)
    assert queue.undo_left(visit.id) == pytest.approx(6.0)
    back = queue.undo(visit.id)
    assert back.status == VisitStatus.WAITING
    assert [v.id for v in queue.waiting()] == [visit.id]
    events = _outbox_events(store)
    assert [e["event"] for e in events] == ["arrived", "walked_out", "cancelled"]
    with pytest.raises(UndoNotPossible):
        queue.undo(visit.id)  # an undo is not undone: tap again instead
    queue.take_in_charge(visit.id)
    clock.advance(10.5)
    with pytest.raises(UndoNotPossible):
        queue.undo(visit.id)
    with pytest.raises(VisitNotWaiting):
        queue.walked_out(visit.id)


def test_undo_of_a_mistaken_arrival_cancels_the_visit_but_keeps_its_number(store, clock):
    queue = WaitQueue(store, clock)
    mistaken = queue.arrive()
    queue.undo(mistaken.id)
    assert queue.visit(mistaken.id).status == VisitStatus.CANCELLED
    assert queue.waiting() == []
    assert queue.arrive().ticket == "A-002"
    summary = queue.summary(threshold_minutes=10)
    assert (summary.visitors, summary.waiting) == (1, 1)


def test_closing_time_closes_waiting_visits_as_unknown_counted_but_not_in_waits(store, clock):
    queue = WaitQueue(store, clock)
    served, left_open = queue.arrive(), queue.arrive()
    clock.advance(300)
    queue.take_in_charge(served.id)
    assert queue.close_if_due(HOURS) == []  # 09:05: open
    clock.advance(3 * 3600)  # 12:05: lunch break, not the end of the day
    assert queue.close_if_due(HOURS) == []
    clock.set_wall_time(datetime(2026, 3, 2, 17, 31, tzinfo=PARIS))
    [closed] = queue.close_if_due(HOURS)
    assert (closed.id, closed.status) == (left_open.id, VisitStatus.UNKNOWN)
    assert queue.undo_left(closed.id) == 0
    summary = queue.summary(threshold_minutes=10)
    assert (summary.visitors, summary.served, summary.unknown) == (2, 1, 1)
    assert (summary.mean_wait_seconds, summary.max_wait_seconds) == (300.0, 300.0)
    assert summary.within_threshold_percent == 100.0


def test_a_visit_left_waiting_yesterday_is_closed_at_start_up(store, clock):
    WaitQueue(store, clock).arrive()
    clock.set_wall_time(datetime(2026, 3, 3, 8, 0, tzinfo=PARIS))  # before opening, next day
    queue = WaitQueue(store, clock)
    assert [v.status for v in queue.close_if_due(HOURS)] == [VisitStatus.UNKNOWN]


def test_an_always_open_desk_keeps_a_visit_across_midnight(store, clock):
    clock.set_wall_time(datetime(2026, 3, 2, 23, 50, tzinfo=PARIS))
    queue = WaitQueue(store, clock)
    visit = queue.arrive()
    clock.advance(30 * 60)
    assert queue.close_if_due(None) == []
    assert queue.take_in_charge(visit.id).wait_seconds == 1800.0
    other = queue.arrive()
    clock.advance(13 * 3600)
    assert [v.id for v in queue.close_if_due(None)] == [other.id]


def test_day_summary_hand_computed(store, clock):
    queue = WaitQueue(store, clock)
    waits = [60, 300, 900]  # minutes: 1, 5, 15
    visits = [queue.arrive() for _ in waits]
    gone = queue.arrive()
    for seconds, visit in sorted(zip(waits, visits, strict=True), key=lambda p: p[0]):
        clock.advance(seconds - (clock.monotonic_ms() - visit.arrived.monotonic_ms) / 1000)
        queue.take_in_charge(visit.id)
    queue.walked_out(gone.id)
    summary = queue.summary(threshold_minutes=10)
    assert (summary.visitors, summary.served, summary.walked_out) == (4, 3, 1)
    assert summary.mean_wait_seconds == pytest.approx(420.0)
    assert summary.max_wait_seconds == 900.0
    assert summary.within_threshold_percent == pytest.approx(200 / 3)


# --- property: whatever the taps, kills and restarts -------------------------------------------

OPS = st.one_of(
    st.tuples(st.just("arrive"), st.sampled_from([None, "passeport", "etat-civil"])),
    st.tuples(st.sampled_from(["take", "walk", "undo", "reason"]), st.integers(0, 9)),
    st.tuples(st.just("advance"), st.floats(0, 900)),
    st.tuples(st.just("jump"), st.floats(-7200, 7200)),
    st.tuples(st.just("reboot"), st.integers(0, 5_000_000)),
    st.tuples(st.just("restart"), st.none()),
)


def _server_folds(store: KioskStore, order: random.Random) -> dict[str, server_visits.VisitState]:
    """Each visit as the server folds it from the records uploaded, received in any order."""
    events: dict[str, list[server_visits.Event]] = {}
    for record in store.pending_records(max_count=500):
        if record.kind != RecordKind.VISIT_EVENT:
            continue
        payload = VisitEventPayload.model_validate(record.payload)
        events.setdefault(str(payload.visit_id), []).append(
            server_visits.Event(
                id=str(record.id),
                event=payload.event,
                at=record.device_time,
                ticket=payload.ticket,
                wait_seconds=payload.wait_seconds,
                cancels=str(payload.cancels) if payload.cancels else None,
                reason=payload.reason,
            )
        )
    for received in events.values():
        order.shuffle(received)
    return {visit_id: server_visits.fold(received) for visit_id, received in events.items()}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OPS, max_size=25), st.randoms())
def test_every_visit_ends_in_one_state_the_server_agrees_with_and_no_wait_is_negative(ops, order):
    clock = ManualClock(start=datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as tmp:
        store = KioskStore(Path(tmp) / "t.db", clock)
        queue = WaitQueue(store, clock)
        try:
            for op, arg in ops:
                waiting = queue.waiting()
                visits = queue.visits()
                if op == "arrive":
                    queue.arrive(arg)
                elif op in ("take", "walk") and waiting:
                    target = waiting[arg % len(waiting)]
                    (queue.take_in_charge if op == "take" else queue.walked_out)(target.id)
                elif op == "reason" and waiting:
                    queue.give_reason(waiting[arg % len(waiting)].id, f"motif-{arg % 3}")
                elif op == "undo" and visits:
                    target = visits[arg % len(visits)]
                    if queue.undo_left(target.id) > 0:
                        queue.undo(target.id)
                    else:
                        with pytest.raises(UndoNotPossible):
                            queue.undo(target.id)
                elif op == "advance":
                    clock.advance(arg)
                elif op == "jump":
                    clock.set_wall_time(clock.now() + timedelta(seconds=arg))
                elif op == "reboot":
                    clock.reboot(arg)
                elif op == "restart":
                    before = {v.id: (v.status, v.wait_seconds) for v in queue.visits()}
                    store.close()
                    store = KioskStore(Path(tmp) / "t.db", clock)
                    queue = WaitQueue(store, clock)
                    assert {v.id: (v.status, v.wait_seconds) for v in queue.visits()} == before
                for visit in queue.visits():
                    assert queue.elapsed(visit).seconds >= 0
            queue.close_open_visits()
            on_server = _server_folds(store, order)
            for visit in queue.visits():
                assert visit.status in {
                    VisitStatus.SERVED,
                    VisitStatus.WALKED_OUT,
                    VisitStatus.UNKNOWN,
                    VisitStatus.CANCELLED,
                }
                assert visit.wait_seconds is None or visit.wait_seconds >= 0
                server = on_server[visit.id]
                assert (server.outcome, server.wait_seconds) == (visit.status, visit.wait_seconds)
                assert server.reason == visit.reason
            outbox = {e["visit_id"] for e in _outbox_events(store)}
            assert outbox == {v.id for v in queue.visits()}
        finally:
            store.close()


# --- the tablet and the server fold a visit the same way -----------------------------------------


def _row(event: str, minutes: float, **extra) -> dict:
    at = MONDAY_9 + timedelta(minutes=minutes)
    return {
        "id": str(uuid.uuid4()),
        "visit_id": "visit-1",
        "event": event,
        "ticket": extra.get("ticket"),
        "reason": None,
        "wait_seconds": extra.get("wait_seconds"),
        "cancels": extra.get("cancels"),
        "device_time": at.isoformat(),
        "monotonic_ms": int(minutes * 60_000),
        "boot_id": "boot-1",
    }


def _on_both_sides(rows: list[dict]) -> tuple[tuple, tuple]:
    tablet = fold(rows)["visit-1"]
    server = server_visits.fold([_as_event(row) for row in reversed(rows)])
    return (tablet.status, tablet.wait_seconds), (server.outcome, server.wait_seconds)


def _as_event(row: dict) -> server_visits.Event:
    return server_visits.Event(
        id=row["id"],
        event=VisitEvent(row["event"]),
        at=datetime.fromisoformat(row["device_time"]),
        ticket=row["ticket"],
        wait_seconds=row["wait_seconds"],
        cancels=row["cancels"],
    )


def test_of_two_closings_the_first_decides_on_the_tablet_and_on_the_server():
    arrived = _row("arrived", 0, ticket="A-001")
    taken = _row("taken_in_charge", 3, wait_seconds=180.0)
    walked = _row("walked_out", 5, wait_seconds=300.0)
    tablet, server = _on_both_sides([arrived, taken, walked])
    assert tablet == server == ("served", 180.0)
    # Taking back the first leaves the second standing, on both sides alike.
    undo = _row("cancelled", 6, cancels=taken["id"])
    tablet, server = _on_both_sides([arrived, taken, walked, undo])
    assert tablet == server == ("walked_out", 300.0)


def test_an_undo_cannot_be_taken_back_on_either_side():
    arrived = _row("arrived", 0, ticket="A-001")
    taken = _row("taken_in_charge", 3, wait_seconds=180.0)
    undo = _row("cancelled", 3.1, cancels=taken["id"])
    tablet, server = _on_both_sides(
        [arrived, taken, undo, _row("cancelled", 3.2, cancels=undo["id"])]
    )
    assert tablet == server == ("waiting", None)


EVENT_NAMES = ["taken_in_charge", "walked_out", "closed_unknown", "cancelled", "arrived"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(EVENT_NAMES),
            st.floats(0, 120),
            st.none() | st.floats(0, 7200),
            st.none() | st.integers(0, 8),
        ),
        max_size=8,
    ),
    st.randoms(),
)
def test_any_events_of_a_visit_fold_the_same_on_the_tablet_and_on_the_server(steps, order):
    rows = [_row("arrived", 0, ticket="A-001")]
    for name, minutes, wait, target in steps:
        cancels = rows[target % len(rows)]["id"] if name == "cancelled" and target else None
        rows.append(_row(name, minutes, wait_seconds=wait, cancels=cancels))
    tablet = fold(rows)["visit-1"]
    received = [_as_event(row) for row in rows]
    order.shuffle(received)
    server = server_visits.fold(received)
    assert (tablet.status, tablet.wait_seconds) == (server.outcome, server.wait_seconds)
    assert tablet.wait_seconds is None or tablet.wait_seconds >= 0


def test_a_wait_longer_than_a_day_is_sent_without_a_measure(store, clock):
    # The protocol bounds waits to a day: a longer one goes without its measure, so the tablet
    # never builds an event the protocol refuses, and the server falls back to wall clocks.
    queue = WaitQueue(store, clock)
    visit = queue.arrive()
    clock.advance(86_400 + 60)
    served = queue.take_in_charge(visit.id)
    assert served.status == "served"
    assert _outbox_events(store)[-1]["wait_seconds"] is None


# --- a reason given once the visitor has arrived --------------------------------------------------


def test_a_reason_given_after_the_arrival_is_that_visits_on_both_sides(store, clock):
    queue = WaitQueue(store, clock)
    first = queue.arrive()
    clock.advance(4)
    queue.give_reason(first.id, "passeport")
    second = queue.arrive()
    assert queue.visit(first.id).reason == "passeport"
    assert queue.visit(second.id).reason is None
    clock.advance(2)
    queue.give_reason(first.id, "etat-civil")  # a wrong chip corrected
    assert queue.visit(first.id).reason == "etat-civil"
    # The arrival keeps its time and its undo window; the wait runs from the first tap.
    assert queue.undo_left(first.id) == pytest.approx(4.0)
    clock.advance(60)
    served = queue.take_in_charge(first.id)
    assert served.wait_seconds == 66.0
    events = _outbox_events(store)
    assert [(e["event"], e["ticket"], e["reason"]) for e in events[:3]] == [
        ("arrived", "A-001", None),
        ("arrived", "A-001", "passeport"),
        ("arrived", "A-002", None),
    ]
    server = _server_folds(store, random.Random(3))[first.id]
    assert (server.outcome, server.wait_seconds, server.reason) == ("served", 66.0, "etat-civil")
    assert server.ticket == "A-001"
    assert queue.summary(threshold_minutes=10).visitors == 2


def test_undo_after_a_reason_takes_the_whole_visit_back_on_both_sides(store, clock):
    queue = WaitQueue(store, clock)
    visit = queue.arrive()
    queue.give_reason(visit.id, "passeport")
    queue.undo(visit.id)
    assert queue.visit(visit.id).status == VisitStatus.CANCELLED
    assert _server_folds(store, random.Random(1))[visit.id].outcome == "cancelled"
    with pytest.raises(VisitNotWaiting):
        queue.give_reason(visit.id, "acte")
