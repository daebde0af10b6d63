"""The monthly Qualivilles meeting, led by the quality manager: which days its preparation
covers ("since the last meeting"), which actions, audits and register entries it brings up, and
what its minutes need. Pure.

A meeting is planned for a day, prepared from the data, held (its minutes: the day held,
attendees, notes, decisions), then closed: closed minutes are frozen, nothing of them changes.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, Protocol, TypeVar

from sync_server.cycle.plan import CLOSED
from sync_server.indicators import formulas
from sync_server.indicators.periods import MAX_CAMPAIGN_DAYS, Period, add_months

Status = Literal["open", "closed"]
STATUSES: tuple[Status, ...] = ("open", "closed")
# Actions due before this many days after the meeting come up (the next meeting's horizon).
ACTIONS_AHEAD_DAYS = 31
# Internal audits planned within this many months after the meeting come up.
AUDITS_AHEAD_MONTHS = 2
MAX_ATTENDEES = 2000
MAX_NOTES = 8000
MAX_DECISION = 300  # a decision may become an action's title (`cycle.referential.MAX_TITLE`)
# How far from today a meeting may be planned or said held, in days.
DAYS_AROUND = 366


@dataclass(frozen=True)
class Meeting:
    id: int
    planned_on: date
    held_on: date | None
    attendees: str
    notes: str
    status: str
    created_by: str
    closed_by: str | None = None
    closed_at: datetime | None = None

    @property
    def day(self) -> date:
        """The day it was held, or is planned for."""
        return self.held_on or self.planned_on

    @property
    def closed(self) -> bool:
        return self.status == "closed"

    @property
    def attendee_lines(self) -> list[str]:
        return [line.strip() for line in self.attendees.splitlines() if line.strip()]


class MeetingClosed(ValueError):
    """The minutes are closed: nothing of the meeting changes any more."""


def previous(meetings: Iterable[Meeting], this: Meeting) -> Meeting | None:
    """The last meeting held before this one (by the day held; ties: the lower number first)."""
    held = [
        m
        for m in meetings
        if m.id != this.id and m.held_on is not None and (m.held_on, m.id) < (this.day, this.id)
    ]
    return max(held, key=lambda m: (m.day, m.id), default=None)


def since_last(previous_day: date | None, meeting_day: date, today: date) -> Period:
    """The days a meeting's preparation covers, as a campaign period [start, end): from the day
    the last meeting was held (the start of the month before, for a first meeting) to the day
    before this one, or to today while it is still ahead. Never empty, at most three years."""
    end = min(meeting_day, today + timedelta(days=1))
    start = previous_day if previous_day is not None else add_months(meeting_day, -1)
    start = max(start, end - timedelta(days=MAX_CAMPAIGN_DAYS))
    if start >= end:
        start = end - timedelta(days=1)
    return Period("campaign", start, end)


class Due(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def due_on(self) -> date | None: ...


D = TypeVar("D", bound=Due)


def actions_due(actions: Iterable[D], meeting_day: date) -> list[D]:
    """The open actions due before the next meeting (`ACTIONS_AHEAD_DAYS` after this one),
    overdue ones included, soonest first."""
    horizon = meeting_day + timedelta(days=ACTIONS_AHEAD_DAYS)
    found = [
        a for a in actions if a.status not in CLOSED and a.due_on is not None and a.due_on < horizon
    ]
    return sorted(found, key=lambda a: a.due_on or horizon)


class Planned(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def audit_on(self) -> date: ...


P = TypeVar("P", bound=Planned)


def audits_ahead(audits: Iterable[P], meeting_day: date) -> list[P]:
    """The internal audits still planned from the meeting's day to `AUDITS_AHEAD_MONTHS`
    months after it, soonest first."""
    horizon = months_after(meeting_day, AUDITS_AHEAD_MONTHS)
    found = [a for a in audits if a.status == "planned" and meeting_day <= a.audit_on < horizon]
    return sorted(found, key=lambda a: a.audit_on)


def months_after(day: date, count: int) -> date:
    """The same day `count` months later (the month's last day when it has no such day)."""
    first = add_months(day, count)
    last = add_months(day, count + 1) - timedelta(days=1)
    return first.replace(day=min(day.day, last.day))


def register_overdue(
    received: date,
    acknowledged: date | None,
    answered: date | None,
    closed: date | None,
    today: date,
    holidays: Container[date] = formulas.NO_HOLIDAYS,
) -> bool:
    """A register entry with a step still not done after its due day (as the register's
    "En retard, à traiter"): not closed, and not acknowledged after 7 days or not answered
    after 15 working days."""
    if closed is not None:
        return False
    acknowledgement, answer = formulas.register_outcomes(
        received, acknowledged, answered, None, today, holidays
    )
    return (acknowledged is None and acknowledgement == "late") or (
        answered is None and answer == "late"
    )


def day_problems(day: date | None, today: date, *, held: bool) -> list[str]:
    """What is wrong with a meeting's day (French msgids); a day held may not be ahead."""
    if day is None:
        return ["La date n'est pas une date valide (AAAA-MM-JJ)."]
    if abs((day - today).days) > DAYS_AROUND:
        return ["La date est trop loin d'aujourd'hui."]
    if held and day > today:
        return ["Une réunion ne peut pas avoir eu lieu après aujourd'hui."]
    return []


def minutes_problems(held_on: date | None, attendees: str, notes: str, today: date) -> list[str]:
    """What is wrong with the minutes posted (French msgids); none: they may be saved."""
    problems = [] if held_on is None else day_problems(held_on, today, held=True)
    if len(attendees) > MAX_ATTENDEES:
        problems.append("La liste des participants est trop longue.")
    if len(notes) > MAX_NOTES:
        problems.append("Le compte rendu est trop long.")
    return problems


def decision_problems(
    text: str, service: str | None, opens_action: bool, services: Container[str]
) -> list[str]:
    """What is wrong with a decision posted (French msgids); an action needs a known service."""
    problems = []
    if not text:
        problems.append("Écrivez la décision.")
    elif len(text) > MAX_DECISION:
        problems.append("La décision est trop longue (300 caractères au plus).")
    if opens_action and (service is None or service not in services):
        problems.append("Choisissez le service de l'action que la décision ouvre.")
    elif service is not None and service not in services:
        problems.append("Service inconnu.")
    return problems


def close_problems(meeting: Meeting) -> list[str]:
    """Minutes are closed once the day held is known, and only once."""
    if meeting.closed:
        return ["Ce compte rendu est déjà clos."]
    if meeting.held_on is None:
        return ["Indiquez la date à laquelle la réunion a eu lieu avant de clore le compte rendu."]
    return []


def next_to_prepare(meetings: Sequence[Meeting], today: date) -> Meeting | None:
    """The meeting to prepare: the first still open, planned from today on; else the last
    open one."""
    open_ = sorted((m for m in meetings if not m.closed), key=lambda m: (m.planned_on, m.id))
    ahead = [m for m in open_ if m.planned_on >= today]
    return ahead[0] if ahead else (open_[-1] if open_ else None)
