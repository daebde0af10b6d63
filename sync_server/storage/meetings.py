"""The monthly Qualivilles meetings: the day planned, the minutes (day held, attendees, notes),
the decisions, and the closing that freezes them.

The rules (which days a meeting covers, what minutes need) are `sync_server.cycle.meetings`';
here they are kept. A decision may open an improvement action through the plan's own `propose`
(come from a meeting decision, validated: the meeting decided it). Every change to a closed
meeting raises `MeetingClosed` and changes nothing. Each change returns what the audit trail
records of it; the caller writes the event in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.cycle.meetings import Meeting, MeetingClosed
from sync_server.storage import plan, schema
from sync_server.storage.db import utcnow


@dataclass(frozen=True)
class Decision:
    id: int
    meeting_id: int
    text: str
    service: str | None
    action_id: int | None
    recorded_by: str
    recorded_at: datetime


def add(connection: Connection, planned_on: date, *, by: str, now: datetime | None = None) -> int:
    """Plan a meeting for `planned_on`; its number."""
    now = now or utcnow()
    inserted = connection.execute(
        schema.meetings.insert().values(
            planned_on=planned_on, held_on=None, attendees="", notes="", status="open",
            created_by=by, created_at=now, updated_by=by, updated_at=now,
        )
    )  # fmt: skip
    return int(inserted.inserted_primary_key[0])


def get(connection: Connection, meeting_id: int) -> Meeting | None:
    t = schema.meetings
    found = _read(connection, sa.select(*_columns()).where(t.c.id == meeting_id))
    return found[0] if found else None


def every(connection: Connection) -> list[Meeting]:
    """Every meeting, the latest planned first."""
    t = schema.meetings
    return _read(connection, sa.select(*_columns()).order_by(t.c.planned_on.desc(), t.c.id.desc()))


def meetings_between(connection: Connection, start: date, end: date) -> list[Meeting]:
    """The meetings of the days [start, end) (the day held, else the day planned), oldest
    first: e.g. a year's meetings for the AFNOR auditor's evidence."""
    t = schema.meetings
    day = sa.func.coalesce(t.c.held_on, t.c.planned_on)
    query = sa.select(*_columns()).where(day >= start, day < end).order_by(day, t.c.id)
    return _read(connection, query)


def save_minutes(
    connection: Connection,
    meeting_id: int,
    held_on: date | None,
    attendees: str,
    notes: str,
    *,
    by: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Save the minutes of an open meeting; what changed, for the audit trail: the day held
    before and after, and only whether the attendees or the notes changed (never their words).
    MeetingClosed if closed."""
    current = _open(connection, meeting_id)
    t = schema.meetings
    connection.execute(
        t.update()
        .where(t.c.id == meeting_id)
        .values(held_on=held_on, attendees=attendees, notes=notes, updated_by=by,
                updated_at=now or utcnow())
    )  # fmt: skip
    changed: dict[str, Any] = {}
    if current.held_on != held_on:
        changed["held_on"] = {"before": _day(current.held_on), "after": _day(held_on)}
    if current.attendees != attendees:
        changed["attendees_changed"] = True
    if current.notes != notes:
        changed["notes_changed"] = True
    return changed


def add_decision(
    connection: Connection,
    meeting_id: int,
    text: str,
    service: str | None,
    *,
    action: plan.Draft | None,
    by: str,
    now: datetime | None = None,
) -> tuple[int, int | None]:
    """Record a decision of an open meeting, opening the action `action` describes if any
    (validated); (decision number, action number or None). MeetingClosed if closed."""
    _open(connection, meeting_id)
    now = now or utcnow()
    action_id = None
    if action is not None:
        action_id = plan.propose(connection, action, by=by, status="validated", now=now)
    inserted = connection.execute(
        schema.meeting_decisions.insert().values(
            meeting_id=meeting_id, text=text, service=service, action_id=action_id,
            recorded_by=by, recorded_at=now,
        )
    )  # fmt: skip
    return int(inserted.inserted_primary_key[0]), action_id


def close(
    connection: Connection,
    meeting_id: int,
    *,
    by: str,
    preparation: str | None = None,
    now: datetime | None = None,
) -> Meeting:
    """Close the minutes of an open meeting, keeping `preparation` (its preparation as it
    stands, serialised by the caller): from then on, nothing of it changes. The meeting as it
    was. MeetingClosed if already closed."""
    current = _open(connection, meeting_id)
    t = schema.meetings
    now = now or utcnow()
    connection.execute(
        t.update()
        .where(t.c.id == meeting_id, t.c.status == "open")
        .values(
            status="closed", closed_by=by, closed_at=now, updated_by=by, updated_at=now,
            preparation=preparation,
        )
    )  # fmt: skip
    return current


def frozen_preparation(connection: Connection, meeting_id: int) -> str | None:
    """The preparation kept when the meeting's minutes were closed; None while open, or for
    minutes closed before preparations were kept."""
    t = schema.meetings
    query = sa.select(t.c.preparation).where(t.c.id == meeting_id, t.c.status == "closed")
    return connection.scalar(query)


def decisions(connection: Connection, meeting_id: int) -> list[Decision]:
    d = schema.meeting_decisions
    rows = connection.execute(sa.select(d).where(d.c.meeting_id == meeting_id).order_by(d.c.id))
    return [
        Decision(
            id=row.id, meeting_id=row.meeting_id, text=row.text, service=row.service,
            action_id=row.action_id, recorded_by=row.recorded_by, recorded_at=row.recorded_at,
        )
        for row in rows
    ]  # fmt: skip


def _open(connection: Connection, meeting_id: int) -> Meeting:
    """The meeting, open, its row locked until the transaction ends (PostgreSQL), so that a
    closing by another process waits for this change or refuses it."""
    t = schema.meetings
    found = _read(connection, sa.select(*_columns()).where(t.c.id == meeting_id).with_for_update())
    current = found[0] if found else None
    if current is None:
        raise LookupError(meeting_id)
    if current.closed:
        raise MeetingClosed(f"meeting {meeting_id} is closed")
    return current


def _columns() -> list[sa.Column[Any]]:
    """The meeting's own columns, without its kept preparation (read only when asked)."""
    return [c for c in schema.meetings.c if c.name != "preparation"]


def _read(connection: Connection, query: sa.Select[Any]) -> list[Meeting]:
    return [
        Meeting(
            id=row.id, planned_on=row.planned_on, held_on=row.held_on,
            attendees=row.attendees, notes=row.notes, status=row.status,
            created_by=row.created_by, closed_by=row.closed_by, closed_at=row.closed_at,
        )
        for row in connection.execute(query)
    ]  # fmt: skip


def _day(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
