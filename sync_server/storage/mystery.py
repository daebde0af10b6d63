"""Mystery visits and calls: the grid of criteria (the product's starting grid until the quality
manager edits it) and the evaluations, each answer kept with its criterion as it was then."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.cycle.mystery import Criterion, bundled_grid
from sync_server.storage import referential, schema
from sync_server.storage.db import utcnow

STARTING_GRID = "starting-grid"  # who put the product's grid in place


@dataclass(frozen=True)
class Evaluation:
    id: int
    service: str
    site: str
    channel: str
    visited_on: date
    evaluator: str
    comment: str
    recorded_by: str
    recorded_at: datetime
    answers: tuple[tuple[Criterion, int | None], ...] = ()


def _criterion(row: sa.Row, channels: dict[str, str]) -> Criterion:
    return Criterion(
        key=row.key, channel=channels.get(row.engagement, ""), engagement=row.engagement,
        label=row.label, kind=row.kind, top=row.top, weight=row.weight,
    )  # fmt: skip


def _channels(connection: Connection) -> dict[str, str]:
    return {e.code: e.channel for e in referential.engagements(connection)}


def _empty(connection: Connection) -> bool:
    c = schema.mystery_criteria
    return connection.scalar(sa.select(sa.func.count()).select_from(c)) == 0


def criteria(connection: Connection, *, retired: bool = False) -> list[Criterion]:
    """The grid in order (the retired criteria too when asked); the starting grid while the
    quality manager has changed nothing (reading stores nothing: the first change does)."""
    channels = _channels(connection)
    if _empty(connection):
        return bundled_grid(channels)
    c = schema.mystery_criteria
    query = sa.select(c).order_by(c.c.position, c.c.key)
    if not retired:
        query = query.where(c.c.retired == sa.false())
    return [_criterion(row, channels) for row in connection.execute(query)]


def retired(connection: Connection) -> set[str]:
    """The keys of the criteria taken out of the grid."""
    c = schema.mystery_criteria
    return set(connection.scalars(sa.select(c.c.key).where(c.c.retired == sa.true())))


def save_criterion(
    connection: Connection,
    criterion: Criterion,
    *,
    by: str,
    retired: bool = False,
    now: datetime | None = None,
) -> None:
    """Add a criterion (last in the grid) or change one (retired: out of the grid); the first
    change stores the starting grid before it."""
    if _empty(connection):
        for starting in bundled_grid(_channels(connection)):
            _save(connection, starting, by=STARTING_GRID, retired=False, now=now)
    _save(connection, criterion, by=by, retired=retired, now=now)


def _save(
    connection: Connection, criterion: Criterion, *, by: str, retired: bool, now: datetime | None
) -> None:
    c = schema.mystery_criteria
    values = {
        "engagement": criterion.engagement, "label": criterion.label, "kind": criterion.kind,
        "top": criterion.top, "weight": criterion.weight, "retired": retired,
        "updated_by": by, "updated_at": now or utcnow(),
    }  # fmt: skip
    changed = connection.execute(c.update().where(c.c.key == criterion.key).values(**values))
    if changed.rowcount == 0:
        last = connection.scalar(sa.select(sa.func.max(c.c.position)))
        connection.execute(c.insert().values(key=criterion.key, position=(last or 0) + 1, **values))


def record(
    connection: Connection,
    *,
    service: str,
    site: str,
    channel: str,
    visited_on: date,
    evaluator: str,
    comment: str,
    answers: list[tuple[Criterion, int | None]],
    by: str,
    now: datetime | None = None,
) -> int:
    """Store one evaluation and its answers; returns its number."""
    e, a = schema.mystery_evaluations, schema.mystery_answers
    number = connection.execute(
        e.insert().values(
            service=service, site=site, channel=channel, visited_on=visited_on,
            evaluator=evaluator, comment=comment, recorded_by=by, recorded_at=now or utcnow(),
        )
    ).inserted_primary_key[0]  # fmt: skip
    for criterion, value in answers:
        connection.execute(
            a.insert().values(
                evaluation_id=number, criterion=criterion.key, engagement=criterion.engagement,
                label=criterion.label, kind=criterion.kind, top=criterion.top,
                weight=criterion.weight, value=value,
            )
        )  # fmt: skip
    return int(number)


def evaluations(
    connection: Connection,
    *,
    first: date | None = None,
    last: date | None = None,
    services: list[str] | None = None,
    channel: str | None = None,
    number: int | None = None,
) -> list[Evaluation]:
    """The evaluations visited from `first` to `last` (inclusive) in `services` (None: all),
    newest first, each with its answers in the grid's order of the day."""
    e, a = schema.mystery_evaluations, schema.mystery_answers
    query = sa.select(e).order_by(e.c.visited_on.desc(), e.c.id.desc())
    if first is not None:
        query = query.where(e.c.visited_on >= first)
    if last is not None:
        query = query.where(e.c.visited_on <= last)
    if services is not None:
        query = query.where(e.c.service.in_(services))
    if channel is not None:
        query = query.where(e.c.channel == channel)
    if number is not None:
        query = query.where(e.c.id == number)
    rows = connection.execute(query).all()
    found: dict[int, list[tuple[Criterion, int | None]]] = {row.id: [] for row in rows}
    channels = {row.id: row.channel for row in rows}
    if rows:
        answers = connection.execute(
            sa.select(a).where(a.c.evaluation_id.in_(found)).order_by(a.c.evaluation_id)
        )
        for row in answers:
            criterion = Criterion(
                key=row.criterion, channel=channels[row.evaluation_id], engagement=row.engagement,
                label=row.label, kind=row.kind, top=row.top, weight=row.weight,
            )  # fmt: skip
            found[row.evaluation_id].append((criterion, row.value))
    return [
        Evaluation(
            id=row.id, service=row.service, site=row.site, channel=row.channel,
            visited_on=row.visited_on, evaluator=row.evaluator, comment=row.comment,
            recorded_by=row.recorded_by, recorded_at=row.recorded_at,
            answers=tuple(found[row.id]),
        )
        for row in rows
    ]  # fmt: skip


def evaluation(connection: Connection, number: int) -> Evaluation | None:
    found = evaluations(connection, number=number)
    return found[0] if found else None
