"""The comments register over a period, as the reports sum it up: entries received, handled on
time (acknowledged within 7 days, answered within 15 working days), late, closed. Pure: register
entries in, counts out; the deadlines are `indicators.formulas`' own."""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sync_server.indicators import formulas
from sync_server.storage import RegisterEntry


@dataclass(frozen=True)
class RegisterSummary:
    """Entries received in the period; of them, steps done on time and entries late on either
    step (judged on `today`: an open entry past its deadline is late); entries handled (answered
    or closed) in the period, whenever received."""

    received: int = 0
    acknowledged_on_time: int = 0
    answered_on_time: int = 0
    late: int = 0
    handled: int = 0


def _day(moment: datetime | None, zone: ZoneInfo) -> date | None:
    return None if moment is None else moment.astimezone(zone).date()


def summarise(
    entries: Iterable[RegisterEntry],
    first: date,
    end: date,
    today: date,
    zone: ZoneInfo,
    holidays: Container[date] = formulas.NO_HOLIDAYS,
) -> RegisterSummary:
    """The summary of the local days [first, end) from `entries` (which may hold others)."""
    received = acknowledged = answered = late = handled = 0
    for entry in entries:
        done = [_day(entry.answered_at, zone), _day(entry.closed_at, zone)]
        handled_on = min((day for day in done if day is not None), default=None)
        if handled_on is not None and first <= handled_on < end:
            handled += 1
        day = _day(entry.received_at, zone)
        if day is None or not first <= day < end:
            continue
        received += 1
        outcomes = formulas.register_outcomes(
            day, _day(entry.acknowledged_at, zone), done[0], done[1], today, holidays
        )
        acknowledged += outcomes[0] == "on_time"
        answered += outcomes[1] == "on_time"
        late += "late" in outcomes
    return RegisterSummary(received, acknowledged, answered, late, handled)


def by_service(
    entries: Iterable[RegisterEntry],
    first: date,
    end: date,
    today: date,
    zone: ZoneInfo,
    holidays: Container[date] = formulas.NO_HOLIDAYS,
) -> dict[str, RegisterSummary]:
    """`summarise` per service, services with no entry received nor handled left out."""
    grouped: dict[str, list[RegisterEntry]] = {}
    for entry in entries:
        grouped.setdefault(entry.service, []).append(entry)
    found = {
        service: summarise(items, first, end, today, zone, holidays)
        for service, items in sorted(grouped.items())
    }
    return {service: s for service, s in found.items() if s.received or s.handled}
