"""A visit's events folded into its state: one rule for the agent tablet and the server. Pure.

The agent tablet records each change of a visit (arrived, taken in charge, walked out, closed at
closing time) as its own immutable event, and the server keeps every event it receives. Both
fold a visit's events with `fold`, so the queue an agent sees and the figures a quality manager
reads cannot disagree. The order events are given in does not matter: a late or repeated upload
gives the same visit.

- An undo is an event too: `cancelled`, naming (`cancels`) the event it takes back, whenever it
  comes. Taking back the arrival voids the visit (outcome "cancelled", no wait), and so does a
  `cancelled` naming nothing; taking back a closing puts the visit back in the queue. An undo
  cannot itself be taken back: one naming another undo changes nothing.
- The earliest closing still standing decides (by time, then id): the visitor stopped waiting
  then, and a later closing of a visit no longer waiting changes nothing.
- An arrival may be restated (same visit, later) to give the visitor's reason once known: the
  first arrival keeps the time, the latest reason given is the visit's.
- The wait is the device's monotonic measure sent with that closing, else the time between the
  arrival and the closing; never negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from qualivilles.protocol import VisitEvent


class VisitStatus(StrEnum):
    WAITING = "waiting"
    SERVED = "served"
    WALKED_OUT = "walked_out"
    UNKNOWN = "unknown"  # still waiting at closing time: counted, left out of wait figures
    CANCELLED = "cancelled"  # a mistaken "visitor arrived", taken back


CLOSINGS = {
    VisitEvent.TAKEN_IN_CHARGE: VisitStatus.SERVED,
    VisitEvent.WALKED_OUT: VisitStatus.WALKED_OUT,
    VisitEvent.CLOSED_UNKNOWN: VisitStatus.UNKNOWN,
}


@dataclass(frozen=True)
class Event:
    id: str
    event: VisitEvent
    at: datetime
    ticket: str | None = None
    wait_seconds: float | None = None
    cancels: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class VisitState:
    ticket: str | None
    arrived_at: datetime | None
    taken_at: datetime | None
    ended_at: datetime | None
    outcome: VisitStatus
    wait_seconds: float | None
    reason: str | None = None
    arrival: Event | None = None  # the first arrival, even when taken back
    closing: Event | None = None  # the closing in force, None unless served, walked out, unknown


def fold(events: list[Event]) -> VisitState:
    """The visit as its events describe it (see the module's rules)."""
    ordered = sorted(events, key=lambda e: (e.at, e.id))
    undos = [e for e in ordered if e.event == VisitEvent.CANCELLED]
    taken_back = {str(e.cancels) for e in undos if e.cancels}
    standing = [e for e in ordered if e.event != VisitEvent.CANCELLED and e.id not in taken_back]
    arrivals = [e for e in ordered if e.event == VisitEvent.ARRIVED]
    arrival = arrivals[0] if arrivals else None
    ticket = next((e.ticket for e in ordered if e.ticket), None)
    # The latest reason given: an agent may correct the reason chip after the arrival.
    reason = next((e.reason for e in reversed(ordered) if e.reason), None)
    arrived_at = arrival.at if arrival else None
    void = any(e.cancels is None for e in undos) or bool(
        arrivals and not any(e.event == VisitEvent.ARRIVED for e in standing)
    )
    if void:
        ended = undos[-1].at if undos else None
        return VisitState(
            ticket, arrived_at, None, ended, VisitStatus.CANCELLED, None, reason, arrival
        )
    closing = next((e for e in standing if e.event in CLOSINGS), None)
    if closing is None:
        return VisitState(
            ticket, arrived_at, None, None, VisitStatus.WAITING, None, reason, arrival
        )
    outcome = CLOSINGS[closing.event]
    # The device's monotonic measure is trusted first: wall clocks may jump between two events.
    wait = closing.wait_seconds
    if wait is None and arrived_at is not None:
        wait = max(0.0, (closing.at - arrived_at).total_seconds())
    taken_at = closing.at if outcome == VisitStatus.SERVED else None
    return VisitState(
        ticket, arrived_at, taken_at, closing.at, outcome, wait, reason, arrival, closing
    )
