"""The improvement plan: actions with their origin, services, owner, due date and status.

The rules of the statuses are `sync_server.cycle.plan`'s; here they are kept. Each change
returns what the audit trail records of it (the caller writes the event in the same
transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.cycle.plan import transition
from sync_server.storage import schema
from sync_server.storage.db import utcnow
from sync_server.storage.models import PlanAction


@dataclass(frozen=True)
class Draft:
    """What a person writes of an action (on the plan's form, or the annual review's)."""

    title: str
    origin: str
    services: tuple[str, ...]
    engagement: str | None = None
    indicator: str | None = None
    site: str | None = None
    owner: str | None = None
    due_on: date | None = None
    year: int | None = None


@dataclass(frozen=True)
class Filter:
    """Which actions: of these services (None: all), of one status, origin, or overdue only."""

    services: Sequence[str] | None = None
    status: str | None = None
    origin: str | None = None
    overdue_on: date | None = None  # only the actions overdue on this day
    year: int | None = None


def propose(
    connection: Connection,
    draft: Draft,
    *,
    by: str,
    status: str = "proposed",
    now: datetime | None = None,
) -> int:
    """Add an action (proposed, unless a validator records it as validated); its number."""
    now = now or utcnow()
    values = _draft_values(draft) | {
        "status": status,
        "created_by": by,
        "created_at": now,
        "updated_by": by,
        "updated_at": now,
    }
    if status == "validated":
        values |= {"validated_by": by, "validated_at": now}
    inserted = connection.execute(schema.plan_actions.insert().values(**values))
    action_id = int(inserted.inserted_primary_key[0])
    _set_services(connection, action_id, draft.services)
    return action_id


def edit(
    connection: Connection, action_id: int, draft: Draft, *, by: str, now: datetime | None = None
) -> dict[str, Any]:
    """Change what an action says; the fields changed, as {field: {"before", "after"}} (the
    title's words are never among them: only that it changed)."""
    before = get(connection, action_id)
    if before is None:
        raise LookupError(action_id)
    values = _draft_values(replace(draft, year=before.year))
    t = schema.plan_actions
    connection.execute(
        t.update()
        .where(t.c.id == action_id)
        .values(**values, updated_by=by, updated_at=now or utcnow())
    )
    _set_services(connection, action_id, draft.services)
    return changes(before, draft)


def changes(before: PlanAction, draft: Draft) -> dict[str, Any]:
    """What an edit changes, by field, for the audit trail (the title only as changed or not)."""
    found: dict[str, Any] = {}
    pairs = {
        "origin": (before.origin, draft.origin),
        "services": (sorted(before.services), sorted(draft.services)),
        "engagement": (before.engagement, draft.engagement),
        "indicator": (before.indicator, draft.indicator),
        "site": (before.site, draft.site),
        "owner": (before.owner, draft.owner),
        "due": (_day(before.due_on), _day(draft.due_on)),
    }
    for key, (old, new) in pairs.items():
        if old != new:
            found[key] = {"before": old, "after": new}
    if before.title != draft.title:
        found["retitled"] = True
    return found


def move(
    connection: Connection,
    action_id: int,
    wanted: str,
    *,
    may_validate: bool,
    by: str,
    now: datetime | None = None,
) -> tuple[str, str]:
    """Move an action to `wanted` (`cycle.plan.transition`: InvalidTransition, nothing
    changed, if it may not); (status before, status after). Done dates the completion."""
    current = get(connection, action_id)
    if current is None:
        raise LookupError(action_id)
    status = transition(current.status, wanted, may_validate=may_validate)
    now = now or utcnow()
    values: dict[str, Any] = {"status": status, "updated_by": by, "updated_at": now}
    if status == "validated":
        values |= {"validated_by": by, "validated_at": now}
    if status == "done":
        values["done_at"] = now
    t = schema.plan_actions
    connection.execute(t.update().where(t.c.id == action_id).values(**values))
    return current.status, status


def get(connection: Connection, action_id: int) -> PlanAction | None:
    found = _read(connection, sa.select(schema.plan_actions).where(
        schema.plan_actions.c.id == action_id))  # fmt: skip
    return found[0] if found else None


def actions(connection: Connection, chosen: Filter | None = None) -> list[PlanAction]:
    """The actions asked, the most urgent first: open ones by due date (none last), then the
    closed ones, newest first."""
    chosen = chosen or Filter()
    t, s = schema.plan_actions, schema.plan_action_services
    query = sa.select(t)
    if chosen.services is not None:
        mine = sa.select(s.c.action_id).where(s.c.service.in_(list(chosen.services)))
        query = query.where(t.c.id.in_(mine))
    if chosen.status is not None:
        query = query.where(t.c.status == chosen.status)
    if chosen.origin is not None:
        query = query.where(t.c.origin == chosen.origin)
    if chosen.year is not None:
        query = query.where(t.c.year == chosen.year)
    if chosen.overdue_on is not None:
        query = query.where(
            t.c.due_on < chosen.overdue_on, t.c.status.not_in(("done", "abandoned"))
        )
    closed = t.c.status.in_(("done", "abandoned"))
    query = query.order_by(closed, t.c.due_on.is_(None), t.c.due_on, t.c.id.desc())
    return _read(connection, query)


def overdue_count(connection: Connection, services: Sequence[str] | None, today: date) -> int:
    return len(actions(connection, Filter(services=services, overdue_on=today)))


def _read(connection: Connection, query: sa.Select[Any]) -> list[PlanAction]:
    rows = connection.execute(query).all()
    s = schema.plan_action_services
    services: dict[int, list[str]] = {}
    ids = [row.id for row in rows]
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        linked = connection.execute(
            sa.select(s.c.action_id, s.c.service).where(s.c.action_id.in_(part))
        )
        for action_id, service in linked:
            services.setdefault(action_id, []).append(service)
    return [
        PlanAction(
            id=row.id,
            title=row.title,
            origin=row.origin,
            status=row.status,
            services=tuple(sorted(services.get(row.id, []))),
            engagement=row.engagement,
            indicator=row.indicator,
            site=row.site,
            owner=row.owner,
            due_on=row.due_on,
            year=row.year,
            created_by=row.created_by,
            created_at=row.created_at,
            updated_by=row.updated_by,
            updated_at=row.updated_at,
            validated_by=row.validated_by,
            validated_at=row.validated_at,
            done_at=row.done_at,
        )
        for row in rows
    ]


def _draft_values(draft: Draft) -> dict[str, Any]:
    return {
        "title": draft.title,
        "origin": draft.origin,
        "engagement": draft.engagement,
        "indicator": draft.indicator,
        "site": draft.site,
        "owner": draft.owner,
        "due_on": draft.due_on,
        "year": draft.year,
    }


def _set_services(connection: Connection, action_id: int, services: Sequence[str]) -> None:
    s = schema.plan_action_services
    connection.execute(s.delete().where(s.c.action_id == action_id))
    for service in sorted(set(services)):
        connection.execute(s.insert().values(action_id=action_id, service=service))


def _day(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
