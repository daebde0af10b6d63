"""The quality manager's records: targets with history, the comments register, and the annual
review's improvement actions (kept in the plan, `plan`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.storage import db, plan, schema
from sync_server.storage.db import utcnow
from sync_server.storage.models import (
    ImprovementAction,
    RegisterContact,
    RegisterEntry,
    TargetChange,
)

REGISTER_STATUSES = ("new", "acknowledged", "answered", "closed")
# The category an entry nobody classed yet is counted in (no register row, or none chosen).
UNCLASSED = "none"


# -- targets -----------------------------------------------------------------------------------


def set_target(
    connection: Connection,
    *,
    indicator: str,
    service: str | None,
    value: float,
    valid_from: date,
    set_by: str,
    now: datetime | None = None,
) -> None:
    """Add a target row; earlier rows stay, so past periods keep the target they had."""
    connection.execute(
        schema.targets.insert().values(
            indicator=indicator,
            service=service,
            value=value,
            valid_from=valid_from,
            set_by=set_by,
            set_at=now or utcnow(),
        )
    )


def target_history(connection: Connection) -> list[TargetChange]:
    t = schema.targets
    rows = connection.execute(sa.select(t).order_by(t.c.valid_from.desc(), t.c.id.desc()))
    return [
        TargetChange(
            indicator=row.indicator,
            service=row.service,
            value=row.value,
            valid_from=row.valid_from,
            set_by=row.set_by,
            set_at=row.set_at,
        )
        for row in rows
    ]


def targets_on(connection: Connection, day: date) -> dict[tuple[str, str | None], float]:
    """Targets in force on `day`, by (indicator, service or None for the town-wide one).

    Of the rows valid from `day` or before, the latest valid_from wins (then the latest entry)."""
    t = schema.targets
    rows = connection.execute(
        sa.select(t.c.indicator, t.c.service, t.c.value)
        .where(t.c.valid_from <= day)
        .order_by(t.c.valid_from, t.c.id)
    )
    found: dict[tuple[str, str | None], float] = {}
    for indicator, service, value in rows:
        found[(indicator, service)] = value  # later rows overwrite earlier ones
    return found


# -- comments register -------------------------------------------------------------------------


def register(
    connection: Connection,
    *,
    services: list[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    status: str | None = None,
    category: str | None = None,
    comment_id: int | None = None,
) -> list[RegisterEntry]:
    """Comments with their desk, date, main answer level and register state, newest first;
    received in [start, end), of `status` and `category` ("none": not classed) when given."""
    c, a, r = schema.comments, schema.answers, schema.comment_register
    k, v = schema.register_contacts, schema.comment_reviews
    query = (
        sa.select(
            c.c.id,
            c.c.text,
            c.c.flagged,
            c.c.question_id,
            a.c.site,
            a.c.service,
            a.c.captured_at,
            a.c.main_level,
            a.c.main_levels,
            r.c.category,
            r.c.status,
            r.c.acknowledged_at,
            r.c.answered_at,
            r.c.closed_at,
            r.c.reply,
            c.c.purged_at,
            r.c.acknowledged_by,
            r.c.answered_by,
            r.c.closed_by,
            k.c.comment_id.is_not(None).label("contact_left"),
            v.c.decision,
            v.c.reviewed_by,
            v.c.reviewed_at,
        )
        .select_from(
            c.join(a, a.c.id == c.c.answer_id)
            .outerjoin(r, r.c.comment_id == c.c.id)
            .outerjoin(k, k.c.comment_id == c.c.id)
            .outerjoin(v, v.c.comment_id == c.c.id)
        )
        .order_by(c.c.captured_at.desc(), c.c.id.desc())
    )
    if services is not None:
        query = query.where(c.c.service.in_(services))
    if start is not None:
        query = query.where(c.c.captured_at >= start)
    if end is not None:
        query = query.where(c.c.captured_at < end)
    if status == "new":
        query = query.where(sa.or_(r.c.status.is_(None), r.c.status == "new"))
    elif status is not None:
        query = query.where(r.c.status == status)
    if category == UNCLASSED:
        query = query.where(sa.or_(r.c.category.is_(None), r.c.category == UNCLASSED))
    elif category is not None:
        query = query.where(r.c.category == category)
    if comment_id is not None:
        query = query.where(c.c.id == comment_id)
    return [_entry(row) for row in connection.execute(query)]


def _entry(row: Any) -> RegisterEntry:
    return RegisterEntry(
        id=row.id,
        text=row.text,
        flagged=bool(row.flagged),
        question_id=row.question_id,
        site=row.site,
        service=row.service,
        received_at=row.captured_at,
        main_level=row.main_level,
        main_levels=row.main_levels,
        category=row.category,
        status=row.status or "new",
        acknowledged_at=row.acknowledged_at,
        answered_at=row.answered_at,
        closed_at=row.closed_at,
        reply=row.reply,
        purged_at=row.purged_at,
        acknowledged_by=row.acknowledged_by,
        answered_by=row.answered_by,
        closed_by=row.closed_by,
        contact_left=bool(row.contact_left),
        review=row.decision,
        reviewed_by=row.reviewed_by,
        reviewed_at=row.reviewed_at,
    )


def update_register(
    connection: Connection,
    comment_id: int,
    *,
    action: str,
    category: str | None = None,
    reply: str | None = None,
    by: str,
    now: datetime | None = None,
) -> None:
    """Categorise, acknowledge, answer or close a comment; each step keeps the earlier dates
    and records who did it (`by`)."""
    now = now or utcnow()
    r = schema.comment_register
    row = connection.execute(sa.select(r).where(r.c.comment_id == comment_id)).first()
    values: dict[str, Any] = dict(row._mapping) if row else {"comment_id": comment_id}
    values.setdefault("status", "new")
    values["status"] = values["status"] or "new"
    if category is not None:
        values["category"] = category
    if action == "acknowledge" and values["status"] == "new":
        values.update(status="acknowledged", acknowledged_at=now, acknowledged_by=by)
    elif action == "answer" and values["status"] in ("new", "acknowledged"):
        if values.get("acknowledged_at") is None:
            values.update(acknowledged_at=now, acknowledged_by=by)
        values.update(status="answered", answered_at=now, answered_by=by, reply=reply)
    elif action == "close" and values["status"] != "closed":
        values.update(status="closed", closed_at=now, closed_by=by)
    values.update(updated_by=by, updated_at=now)
    if row is None:
        connection.execute(r.insert().values(**values))
    else:
        connection.execute(r.update().where(r.c.comment_id == comment_id).values(**values))


# -- contact details left to be answered -----------------------------------------------------


def _accepting_contact() -> list[sa.ColumnElement[bool]]:
    """The conditions for an entry to take contact details: a text still there, the entry not
    closed, no contact left yet (select from comments outer-joined to the register and the
    contacts)."""
    c, r, k = schema.comments, schema.comment_register, schema.register_contacts
    return [
        c.c.purged_at.is_(None),
        c.c.text != "",
        sa.or_(r.c.status.is_(None), r.c.status != "closed"),
        k.c.comment_id.is_(None),
    ]


def _entries_with_contacts() -> Any:
    c, r, k = schema.comments, schema.comment_register, schema.register_contacts
    return c.outerjoin(r, r.c.comment_id == c.c.id).outerjoin(k, k.c.comment_id == c.c.id)


def reply_target(connection: Connection, answer_id: str) -> int | None:
    """The register entry a visitor's contact details would be attached to: the answer's
    comment (else its first text answer), if it can still take them (`takes_contact`)."""
    c = schema.comments
    query = (
        sa.select(c.c.id)
        .select_from(_entries_with_contacts())
        .where(c.c.answer_id == answer_id, *_accepting_contact())
        .order_by(c.c.question_id.is_not(None), c.c.question_id, c.c.id)
        .limit(1)
    )
    return connection.scalar(query)


def takes_contact(connection: Connection, comment_id: int) -> bool:
    """Whether the entry can take contact details: its text is there, it is not closed and
    has none yet."""
    c = schema.comments
    query = (
        sa.select(c.c.id)
        .select_from(_entries_with_contacts())
        .where(c.c.id == comment_id, *_accepting_contact())
    )
    return connection.execute(query).first() is not None


def leave_contact(
    connection: Connection,
    comment_id: int,
    *,
    phone: str | None,
    email: str | None,
    language: str,
    retention_days: int,
    now: datetime | None = None,
) -> bool:
    """Keep the contact details a visitor consented to leave for `comment_id`; False (nothing
    written) if the entry cannot take them (`takes_contact`)."""
    if phone is None and email is None:
        raise ValueError("a contact needs a phone number or an e-mail address")
    if not takes_contact(connection, comment_id):
        return False
    k = schema.register_contacts
    # RETURNING, not rowcount: the PostgreSQL driver gives -1 for an INSERT … ON CONFLICT.
    statement = db.insert_ignore(connection, k).returning(k.c.comment_id)
    inserted = connection.execute(
        statement,
        {
            "comment_id": comment_id,
            "phone": phone,
            "email": email,
            "language": language,
            "consented_at": now or utcnow(),
            "retention_days": retention_days,
        },
    )
    return inserted.first() is not None


def contacts(connection: Connection, comment_ids: list[int]) -> dict[int, RegisterContact]:
    """The contact details left for these entries, by entry. Only for the people who answer."""
    if not comment_ids:
        return {}
    k = schema.register_contacts
    found: dict[int, RegisterContact] = {}
    for start in range(0, len(comment_ids), 500):
        part = comment_ids[start : start + 500]
        for row in connection.execute(sa.select(k).where(k.c.comment_id.in_(part))):
            found[row.comment_id] = RegisterContact(**row._mapping)
    return found


def forget_contact(connection: Connection, comment_id: int) -> bool:
    """Delete an entry's contact details (the visitor withdrew their consent); whether any were
    there."""
    k = schema.register_contacts
    return connection.execute(k.delete().where(k.c.comment_id == comment_id)).rowcount > 0


def comment_categories(
    connection: Connection, start: datetime, end: datetime, services: list[str] | None = None
) -> dict[tuple[str, str, str], int]:
    """Comments per (site, service, category) captured in [start, end); None category: "none"."""
    c, r = schema.comments, schema.comment_register
    category = sa.func.coalesce(r.c.category, "none")
    query = (
        sa.select(c.c.site, c.c.service, category, sa.func.count())
        .select_from(c.outerjoin(r, r.c.comment_id == c.c.id))
        .where(c.c.captured_at >= start, c.c.captured_at < end)
        .group_by(c.c.site, c.c.service, category)
    )
    if services is not None:
        query = query.where(c.c.service.in_(services))
    return {(row[0], row[1], row[2]): row[3] for row in connection.execute(query)}


# -- improvement actions of the annual review ------------------------------------------------
# They live in the plan (`plan`): recorded there against a missed indicator, validated, for the
# year reviewed.


def record_action(
    connection: Connection,
    *,
    year: int,
    service: str,
    indicator: str,
    action: str,
    by: str,
    now: datetime | None = None,
) -> int:
    """Record an improvement action for an indicator missed in `year`; its number in the plan.

    Only a quality manager records one, so it goes in validated."""
    draft = plan.Draft(
        title=action,
        origin="indicator_miss",
        services=(service,),
        indicator=indicator,
        year=year,
    )
    return plan.propose(connection, draft, by=by, status="validated", now=now)


def actions(
    connection: Connection, year: int, services: list[str] | None = None
) -> list[ImprovementAction]:
    """The plan's actions for the annual review of `year` (not abandoned), one per service,
    by service, indicator and number."""
    chosen = plan.Filter(services=services, year=year)
    found = [
        ImprovementAction(
            year=year,
            service=service,
            indicator=action.indicator or "",
            action=action.title,
            recorded_by=action.created_by,
            recorded_at=action.created_at,
            id=action.id,
            status=action.status,
        )
        for action in plan.actions(connection, chosen)
        if action.status != "abandoned"
        for service in action.services
        if services is None or service in services
    ]
    return sorted(found, key=lambda a: (a.service, a.indicator, a.id))
