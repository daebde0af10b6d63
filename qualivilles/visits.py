"""Folding a visit's events into its current state. Pure: the order events arrive in is irrelevant.

The agent tablet sends each change of a visit (arrived, taken in charge, walked out…) as its own
immutable record. The server keeps every event and recomputes the visit from all of them, so a
late arrival event or a repeated upload gives the same visit.

An undo is an event too: `cancelled` naming (`cancels`) the event it takes back. Events taken
back are ignored; a visit whose arrival is taken back (or a bare `cancelled`) is void.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from qualivilles.protocol import VisitEvent

OUTCOMES = {
    VisitEvent.TAKEN_IN_CHARGE: "served",
    VisitEvent.WALKED_OUT: "walked_out",
    VisitEvent.CLOSED_UNKNOWN: "unknown",
}


@dataclass(frozen=True)
class Event:
    id: str
    event: VisitEvent
    at: datetime
    ticket: str | None = None
    wait_seconds: float | None = None
    cancels: str | None = None


@dataclass(frozen=True)
class VisitState:
    ticket: str | None
    arrived_at: datetime | None
    taken_at: datetime | None
    ended_at: datetime | None
    outcome: str
    wait_seconds: float | None


def fold(events: list[Event]) -> VisitState:
    """The visit as its events describe it; the latest closing event still standing decides."""
    ordered = sorted(events, key=lambda e: (e.at, e.id))
    undos = [e for e in ordered if e.event == VisitEvent.CANCELLED]
    taken_back = {str(e.cancels) for e in undos if e.cancels}
    standing = [e for e in ordered if e.event != VisitEvent.CANCELLED and e.id not in taken_back]
    arrivals_all = [e for e in ordered if e.event == VisitEvent.ARRIVED]
    arrivals = [e for e in standing if e.event == VisitEvent.ARRIVED]
    ticket = next((e.ticket for e in ordered if e.ticket), None)
    arrived_at = arrivals_all[0].at if arrivals_all else None
    void = any(e.cancels is None for e in undos) or bool(arrivals_all and not arrivals)
    if void:
        last = undos[-1].at if undos else None
        return VisitState(ticket, arrived_at, None, last, "cancelled", None)
    closings = [e for e in standing if e.event in OUTCOMES]
    if not closings:
        return VisitState(ticket, arrived_at, None, None, "waiting", None)
    closing = closings[-1]
    outcome = OUTCOMES[closing.event]
    # The device's monotonic measure is trusted first: wall clocks may jump between two events.
    wait = closing.wait_seconds
    if wait is None and arrived_at is not None:
        wait = max(0.0, (closing.at - arrived_at).total_seconds())
    taken_at = closing.at if outcome == "served" else None
    return VisitState(ticket, arrived_at, taken_at, closing.at, outcome, wait)
