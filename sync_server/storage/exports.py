"""Rows for the exports: answers with their follow-up items, and visits, oldest first; the
names of the sites and services they name."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.storage import schema


def _in(table: sa.Table, start: datetime, end: datetime, column: str) -> list[Any]:
    return [table.c[column] >= start, table.c[column] < end]


def answer_rows(
    connection: Connection,
    start: datetime,
    end: datetime,
    *,
    services: list[str] | None = None,
    sites: list[str] | None = None,
    include_suspect: bool = False,
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
        a.c.survey_id,
        a.c.survey_version,
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
    services: list[str] | None = None,
    sites: list[str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Visits arrived in [start, end), with their outcome and wait."""
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


def place_names(connection: Connection) -> tuple[dict[str, str], dict[str, str]]:
    """({site code: name}, {service code: name}) of the town."""
    sites = dict(connection.execute(sa.select(schema.sites.c.slug, schema.sites.c.name)).all())
    services = connection.execute(sa.select(schema.services.c.slug, schema.services.c.name))
    return sites, dict(services.all())
