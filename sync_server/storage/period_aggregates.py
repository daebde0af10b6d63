"""Aggregates for the period indicators and rows for the exports: counts, never formulas."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.storage import schema
from sync_server.storage.models import AnswerQuality, ItemCount


def _in(table: sa.Table, start: datetime, end: datetime, column: str) -> list[Any]:
    return [table.c[column] >= start, table.c[column] < end]


def item_counts(
    connection: Connection,
    start: datetime,
    end: datetime,
    *,
    services: list[str] | None,
    include_suspect: bool,
) -> list[ItemCount]:
    """Chosen values per desk, survey version and question, for answers captured in the range."""
    a, i = schema.answers, schema.answer_items
    conditions = _in(a, start, end, "captured_at")
    if services is not None:
        conditions.append(a.c.service.in_(services))
    if not include_suspect:
        conditions.append(a.c.suspect.is_(False))
    keys = (a.c.site, a.c.service, a.c.survey_id, a.c.survey_version, i.c.question_id, i.c.value)
    query = (
        sa.select(*keys, sa.func.count())
        .select_from(a.join(i, i.c.answer_id == a.c.id))
        .where(*conditions)
        .group_by(*keys)
    )
    return [ItemCount(*row) for row in connection.execute(query)]


def answer_quality(
    connection: Connection, start: datetime, end: datetime, *, services: list[str] | None
) -> list[AnswerQuality]:
    """Every answer (suspect ones included) per desk, partial or not, suspect or not."""
    a = schema.answers
    conditions = _in(a, start, end, "captured_at")
    if services is not None:
        conditions.append(a.c.service.in_(services))
    partial = a.c.status == "partial"
    query = (
        sa.select(a.c.site, a.c.service, partial, a.c.suspect, sa.func.count())
        .where(*conditions)
        .group_by(a.c.site, a.c.service, partial, a.c.suspect)
    )
    return [
        AnswerQuality(row[0], row[1], bool(row[2]), bool(row[3]), row[4])
        for row in connection.execute(query)
    ]


def visitor_counts(
    connection: Connection, start: datetime, end: datetime, *, services: list[str] | None
) -> dict[tuple[str, str], int]:
    """Visitors recorded by agents per desk, by arrival time: every outcome but "cancelled"
    (a mistaken tap taken back is not a visitor, as in the wait figures)."""
    v = schema.visits
    conditions = [*_in(v, start, end, "arrived_at"), v.c.outcome != "cancelled"]
    if services is not None:
        conditions.append(v.c.service.in_(services))
    query = sa.select(v.c.site, v.c.service, sa.func.count()).where(*conditions)
    query = query.group_by(v.c.site, v.c.service)
    return {(row[0], row[1]): row[2] for row in connection.execute(query)}


def answer_rows(
    connection: Connection,
    start: datetime,
    end: datetime,
    *,
    services: list[str] | None,
    sites: list[str] | None,
    include_suspect: bool,
) -> Iterator[dict[str, Any]]:
    """Raw answers with their follow-up items (question id → "value;value"), oldest first."""
    a, i = schema.answers, schema.answer_items
    conditions = _in(a, start, end, "captured_at")
    if services is not None:
        conditions.append(a.c.service.in_(services))
    if sites is not None:
        conditions.append(a.c.site.in_(sites))
    if not include_suspect:
        conditions.append(a.c.suspect.is_(False))
    columns = [
        a.c.id,
        a.c.captured_at,
        a.c.site,
        a.c.service,
        a.c.channel,
        a.c.language,
        a.c.status,
        a.c.suspect,
        a.c.main_choice,
    ]
    items: dict[str, dict[str, list[str]]] = {}
    item_query = (
        sa.select(i.c.answer_id, i.c.question_id, i.c.value)
        .select_from(a.join(i, i.c.answer_id == a.c.id))
        .where(*conditions)
    )
    for answer_id, question_id, value in connection.execute(item_query):
        items.setdefault(answer_id, {}).setdefault(question_id, []).append(value)
    query = sa.select(*columns).where(*conditions).order_by(a.c.captured_at, a.c.id)
    for row in connection.execute(query):
        record = dict(row._mapping)
        record["items"] = {q: ";".join(sorted(v)) for q, v in items.get(row.id, {}).items()}
        yield record


def visit_rows(
    connection: Connection,
    start: datetime,
    end: datetime,
    *,
    services: list[str] | None,
    sites: list[str] | None,
) -> Iterator[dict[str, Any]]:
    v = schema.visits
    conditions = _in(v, start, end, "arrived_at")
    if services is not None:
        conditions.append(v.c.service.in_(services))
    if sites is not None:
        conditions.append(v.c.site.in_(sites))
    query = (
        sa.select(
            v.c.id,
            v.c.site,
            v.c.service,
            v.c.ticket,
            v.c.arrived_at,
            v.c.taken_at,
            v.c.outcome,
            v.c.wait_seconds,
        )
        .where(*conditions)
        .order_by(v.c.arrived_at, v.c.id)
    )
    for row in connection.execute(query):
        yield dict(row._mapping)
