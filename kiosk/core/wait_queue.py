"""The desk's waiting queue on the agent tablet: rules only, no GUI.

Every tap writes one immutable visit event (kept on the device and queued for upload in the same
transaction) before the method returns; the queue is a fold of those events, so it comes back
whole after the app is killed. Waits are measured on the monotonic clock when arrival and event
happened in the same boot; across a reboot the wall-clock difference is used and flagged as
estimated. An undo is a `cancelled` event naming the event it takes back, never a deletion.
"""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from kiosk.core.clock import DeviceClock
from qualivilles import opening_hours, visits
from qualivilles.protocol import MAX_WAIT_SECONDS, VisitEvent, VisitEventPayload
from qualivilles.visits import VisitStatus

UNDO_SECONDS = 10.0
# A desk with no opening hours closes a visit still waiting after this long as unknown.
MAX_OPEN_WAIT = timedelta(hours=12)
# How far back the queue is rebuilt from the store at start-up.
HISTORY = timedelta(days=14)


class QueueError(Exception):
    """A tap that does not apply to the visit any more; the screen refreshes and goes on."""


class VisitNotWaiting(QueueError):
    """The visit is no longer waiting (already served, gone, closed or cancelled)."""


class UndoNotPossible(QueueError):
    """Nothing to take back, or the undo window has passed."""


@dataclass(frozen=True)
class Moment:
    """When something happened, on both clocks."""

    wall: datetime
    monotonic_ms: int
    boot_id: str | None


def seconds_between(start: Moment, end: Moment) -> tuple[float, bool]:
    """(seconds, estimated): monotonic within one boot, wall clocks otherwise; never negative."""
    if start.boot_id == end.boot_id and end.monotonic_ms >= start.monotonic_ms:
        return (end.monotonic_ms - start.monotonic_ms) / 1000, False
    return max(0.0, (end.wall - start.wall).total_seconds()), True


@dataclass(frozen=True)
class Visit:
    """A visit as the tablet shows it: the shared fold's state, on the device's own clocks."""

    id: str
    ticket: str
    reason: str | None
    arrived: Moment
    status: VisitStatus = VisitStatus.WAITING
    wait_seconds: float | None = None  # arrival to the closing event (served, walked out)
    wait_estimated: bool = False  # measured on wall clocks (a reboot came in between)
    last_event_id: str | None = None  # the latest tap, while it can be taken back
    last_event: VisitEvent = VisitEvent.ARRIVED
    last_moment: Moment | None = None
    restated: bool = False  # its arrival was restated with a reason given afterwards


@dataclass(frozen=True)
class Elapsed:
    seconds: float
    estimated: bool


def _moment(row: Mapping[str, Any]) -> Moment:
    return Moment(
        datetime.fromisoformat(row["device_time"]), int(row["monotonic_ms"]), row["boot_id"]
    )


def _event(row: Mapping[str, Any]) -> visits.Event:
    return visits.Event(
        id=row["id"],
        event=VisitEvent(row["event"]),
        at=datetime.fromisoformat(row["device_time"]),
        ticket=row["ticket"],
        wait_seconds=row["wait_seconds"],
        cancels=row["cancels"],
        reason=row["reason"],
    )


def fold_visit(rows: Sequence[Mapping[str, Any]]) -> Visit | None:
    """One visit from its events on this device (in capture order), by the shared fold; None
    without an arrival.

    The tablet adds what only it knows: the moments on its monotonic clock, and which tap undo
    would take back (the latest, in capture order, while it still stands)."""
    state = visits.fold([_event(row) for row in rows])
    if state.arrival is None:
        return None
    moments = {row["id"]: _moment(row) for row in rows}
    # A reason given after the arrival restates it (see `WaitQueue.give_reason`): not a tap that
    # undo takes back, and it does not restart the arrival's undo window.
    taps = [r for r in rows if r["event"] != VisitEvent.ARRIVED or r["id"] == state.arrival.id]
    last = taps[-1]
    in_force = {state.arrival.id, state.closing.id if state.closing else None}
    undoable = state.outcome != VisitStatus.CANCELLED and last["id"] in in_force
    return Visit(
        id=last["visit_id"],
        ticket=state.ticket or "?",
        reason=state.reason,
        arrived=moments[state.arrival.id],
        status=state.outcome,
        wait_seconds=state.wait_seconds,
        wait_estimated=state.closing is not None and state.closing.wait_seconds is None,
        last_event_id=last["id"] if undoable else None,
        last_event=VisitEvent(last["event"]),
        last_moment=moments[last["id"]],
        restated=len(taps) < len(rows),
    )


def fold(rows: Sequence[Mapping[str, Any]]) -> dict[str, Visit]:
    """The visits as the device's own events (in capture order) describe them."""
    by_visit: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        by_visit.setdefault(row["visit_id"], []).append(row)
    folded = {visit_id: fold_visit(own) for visit_id, own in by_visit.items()}
    return {visit_id: visit for visit_id, visit in folded.items() if visit is not None}


@dataclass(frozen=True)
class DaySummary:
    visitors: int  # arrivals not taken back
    waiting: int
    served: int
    walked_out: int
    unknown: int
    mean_wait_seconds: float | None
    max_wait_seconds: float | None
    within_threshold_percent: float | None  # of served visits

    @classmethod
    def of(cls, visits: Sequence[Visit], threshold_minutes: float) -> DaySummary:
        counted = [v for v in visits if v.status != VisitStatus.CANCELLED]
        waits = [
            v.wait_seconds
            for v in counted
            if v.status == VisitStatus.SERVED and v.wait_seconds is not None
        ]
        within = sum(w <= threshold_minutes * 60 for w in waits)
        return cls(
            visitors=len(counted),
            waiting=sum(v.status == VisitStatus.WAITING for v in counted),
            served=sum(v.status == VisitStatus.SERVED for v in counted),
            walked_out=sum(v.status == VisitStatus.WALKED_OUT for v in counted),
            unknown=sum(v.status == VisitStatus.UNKNOWN for v in counted),
            mean_wait_seconds=statistics.fmean(waits) if waits else None,
            max_wait_seconds=max(waits) if waits else None,
            within_threshold_percent=100 * within / len(waits) if waits else None,
        )


class VisitEventStore(Protocol):
    def record_visit_event(
        self, payload: VisitEventPayload, boot_id: str | None
    ) -> dict[str, Any]: ...

    def visit_events(self, since: datetime) -> list[dict[str, Any]]: ...


def boot_id_of(clock: DeviceClock) -> str | None:
    reader = getattr(clock, "boot_id", None)
    return reader() if callable(reader) else None


def ticket_for(prefix: str, number: int) -> str:
    """ "A-017": short enough to read across the desk."""
    return f"{prefix}-{number:03d}"


def last_closing_time(hours: opening_hours.OpeningHours | None, day: datetime) -> time | None:
    """When the desk closes for the day (end of its last period); None if no hours that day."""
    periods = opening_hours.parse(hours)
    if periods is None:
        return None
    today = periods.get(opening_hours.DAYS[day.weekday()], [])
    return max((closing for _, closing in today), default=None)


class WaitQueue:
    """The tablet's queue over a store; every method that records commits before returning."""

    def __init__(
        self,
        store: VisitEventStore,
        clock: DeviceClock,
        *,
        ticket_prefix: str = "A",
        timezone: str = "Europe/Paris",
        undo_seconds: float = UNDO_SECONDS,
    ) -> None:
        self.store = store
        self.clock = clock
        self.ticket_prefix = ticket_prefix
        self.zone = ZoneInfo(timezone)
        self.undo_seconds = undo_seconds
        self._rows = list(store.visit_events(clock.now() - HISTORY))
        self._visits = fold(self._rows)

    # --- reading ------------------------------------------------------------------------
    def now(self) -> Moment:
        return Moment(self.clock.now(), self.clock.monotonic_ms(), boot_id_of(self.clock))

    def visit(self, visit_id: str) -> Visit:
        return self._visits[visit_id]

    def visits(self) -> list[Visit]:
        return sorted(self._visits.values(), key=lambda v: (v.arrived.wall, v.ticket))

    def waiting(self) -> list[Visit]:
        """Visitors still waiting, oldest first (arrival order on this device)."""
        order = {
            row["visit_id"]: index
            for index, row in enumerate(self._rows)
            if row["event"] == VisitEvent.ARRIVED
        }
        return sorted(
            (v for v in self._visits.values() if v.status == VisitStatus.WAITING),
            key=lambda v: order[v.id],
        )

    def elapsed(self, visit: Visit) -> Elapsed:
        """How long the visitor has waited (or waited, once closed)."""
        if visit.wait_seconds is not None:
            return Elapsed(visit.wait_seconds, visit.wait_estimated)
        return Elapsed(*seconds_between(visit.arrived, self.now()))

    def undo_left(self, visit_id: str) -> float:
        """Seconds left to take back the visit's latest event (0 when it cannot be)."""
        visit = self._visits.get(visit_id)
        if visit is None or visit.last_event_id is None or visit.last_moment is None:
            return 0.0
        if visit.status == VisitStatus.UNKNOWN:
            return 0.0  # closed by the rule, not by a tap
        start, now = visit.last_moment, self.now()
        if start.boot_id != now.boot_id or now.monotonic_ms < start.monotonic_ms:
            return 0.0
        return max(0.0, self.undo_seconds - (now.monotonic_ms - start.monotonic_ms) / 1000)

    def local_day(self, moment: datetime) -> datetime:
        local = moment.astimezone(self.zone)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)

    def today(self) -> list[Visit]:
        day = self.local_day(self.clock.now())
        return [v for v in self.visits() if self.local_day(v.arrived.wall) == day]

    def summary(self, threshold_minutes: float) -> DaySummary:
        return DaySummary.of(self.today(), threshold_minutes)

    # --- taps ---------------------------------------------------------------------------
    def arrive(self, reason: str | None = None) -> Visit:
        """ "Visitor arrived": a new visit with today's next ticket number."""
        number = 1 + sum(1 for v in self.today())
        visit_id = str(uuid.uuid4())
        self._record(
            VisitEventPayload(
                visit_id=visit_id,
                event=VisitEvent.ARRIVED,
                ticket=ticket_for(self.ticket_prefix, number),
                reason=reason,
            )
        )
        return self._visits[visit_id]

    def give_reason(self, visit_id: str, reason: str) -> Visit:
        """The reason the visitor gives once arrived, recorded on their visit (not the next one).

        Sent as the arrival restated with the reason (same visit and ticket): the shared fold keeps
        the first arrival's time and the latest reason, so an agent can correct a wrong chip."""
        visit = self._visits.get(visit_id)
        if visit is None or visit.status != VisitStatus.WAITING:
            raise VisitNotWaiting(visit_id)
        if visit.reason != reason:
            self._record(
                VisitEventPayload(
                    visit_id=visit_id, event=VisitEvent.ARRIVED, ticket=visit.ticket, reason=reason
                )
            )
        return self._visits[visit_id]

    def take_in_charge(self, visit_id: str) -> Visit:
        return self._close(visit_id, VisitEvent.TAKEN_IN_CHARGE)

    def walked_out(self, visit_id: str) -> Visit:
        return self._close(visit_id, VisitEvent.WALKED_OUT)

    def undo(self, visit_id: str) -> Visit:
        """Take back the visit's latest tap, within the undo window."""
        if self.undo_left(visit_id) <= 0:
            raise UndoNotPossible(visit_id)
        visit = self._visits[visit_id]
        # An arrival restated with a reason is taken back whole: an undo naming no event voids
        # the visit, where naming the first arrival would leave the restated one standing.
        whole_visit = visit.last_event == VisitEvent.ARRIVED and visit.restated
        self._record(
            VisitEventPayload(
                visit_id=visit_id,
                event=VisitEvent.CANCELLED,
                cancels=None if whole_visit else visit.last_event_id,
            )
        )
        return self._visits[visit_id]

    def close_open_visits(self) -> list[Visit]:
        """Closing time: every visit still waiting ends as "unknown outcome"."""
        return [self._close(v.id, VisitEvent.CLOSED_UNKNOWN) for v in self.waiting()]

    def close_if_due(self, hours: opening_hours.OpeningHours | None) -> list[Visit]:
        """Apply the closing rule now: waiting visits from an earlier day, or after today's
        last closing time, end as "unknown"; with no hours, those waiting over 12 hours."""
        now = self.clock.now()
        local_now = now.astimezone(self.zone)
        today = self.local_day(now)
        closing = last_closing_time(hours, local_now)
        closed = []
        for visit in self.waiting():
            if opening_hours.parse(hours) is None:
                due = now - visit.arrived.wall > MAX_OPEN_WAIT
            else:
                due = self.local_day(visit.arrived.wall) < today or (
                    closing is not None and local_now.time() >= closing
                )
            if due:
                closed.append(self._close(visit.id, VisitEvent.CLOSED_UNKNOWN))
        return closed

    def _close(self, visit_id: str, event: VisitEvent) -> Visit:
        visit = self._visits.get(visit_id)
        if visit is None or visit.status != VisitStatus.WAITING:
            raise VisitNotWaiting(visit_id)
        seconds, estimated = seconds_between(visit.arrived, self.now())
        self._record(
            VisitEventPayload(
                visit_id=visit_id,
                event=event,
                # Only a monotonic measure goes on the wire: the server corrects wall clocks itself.
                # A wait beyond the protocol's bound (a day) is left to the wall clocks too.
                wait_seconds=None if estimated or seconds > MAX_WAIT_SECONDS else seconds,
            )
        )
        return self._visits[visit_id]

    def _record(self, payload: VisitEventPayload) -> None:
        row = self.store.record_visit_event(payload, boot_id_of(self.clock))
        self._rows.append(row)
        visit = fold_visit([r for r in self._rows if r["visit_id"] == row["visit_id"]])
        if visit is not None:
            self._visits[visit.id] = visit
