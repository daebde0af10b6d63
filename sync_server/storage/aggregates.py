"""Aggregate queries for the indicators: counts and lists, never a formula (those are pure)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.storage import schema
from sync_server.storage.db import as_utc, raw_time
from sync_server.storage.models import LevelCount


def desk_filter(
    table: sa.Table, sites: list[str] | None, services: list[str] | None
) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if sites is not None:
        conditions.append(table.c.site.in_(sites))
    if services is not None:
        conditions.append(table.c.service.in_(services))
    return conditions


def main_level_counts(
    connection: Connection,
    start: datetime,
    end: datetime,
    *,
    sites: list[str] | None = None,
    services: list[str] | None = None,
    include_suspect: bool = False,
) -> list[LevelCount]:
    """Answers per desk and main-question level captured in [start, end)."""
    a = schema.answers
    conditions = [a.c.captured_at >= start, a.c.captured_at < end, a.c.main_choice.is_not(None)]
    conditions += desk_filter(a, sites, services)
    if not include_suspect:
        conditions.append(a.c.suspect.is_(False))
    query = (
        sa.select(a.c.site, a.c.service, a.c.main_level, a.c.main_levels, sa.func.count())
        .where(*conditions)
        .group_by(a.c.site, a.c.service, a.c.main_level, a.c.main_levels)
    )
    return [
        LevelCount(site=row[0], service=row[1], level=row[2], levels=row[3], count=row[4])
        for row in connection.execute(query)
    ]


def served_waits(
    connection: Connection,
    start: datetime,
    end: datetime,
    *,
    sites: list[str] | None = None,
    services: list[str] | None = None,
) -> dict[tuple[str, str], list[float]]:
    """Measured waits (seconds) of visits served, by desk, for arrivals in [start, end)."""
    v = schema.visits
    conditions = [
        v.c.arrived_at >= start,
        v.c.arrived_at < end,
        v.c.outcome == "served",
        v.c.wait_seconds.is_not(None),
    ]
    conditions += desk_filter(v, sites, services)
    waits: dict[tuple[str, str], list[float]] = {}
    query = sa.select(v.c.site, v.c.service, v.c.wait_seconds).where(*conditions)
    # .all(): one fetchall, where iterating the result fetches row by row (twice as slow).
    for site, service, seconds in connection.execute(query).all():
        waits.setdefault((site, service), []).append(float(seconds))
    return waits


def visit_facts(
    connection: Connection,
    start: datetime,
    end: datetime,
    *,
    sites: list[str] | None = None,
    services: list[str] | None = None,
) -> dict[tuple[str, str], list[tuple[datetime, str, float | None]]]:
    """(arrived_at, outcome, wait seconds) of visits arrived in [start, end), by desk;
    cancelled visits (a mistaken tap taken back) are not visits."""
    v = schema.visits
    conditions = [v.c.arrived_at >= start, v.c.arrived_at < end, v.c.outcome != "cancelled"]
    conditions += desk_filter(v, sites, services)
    query = sa.select(
        v.c.site, v.c.service, raw_time(v.c.arrived_at), v.c.outcome, v.c.wait_seconds
    )
    facts: dict[tuple[str, str], list[tuple[datetime, str, float | None]]] = {}
    for site, service, arrived, outcome, wait in connection.execute(query.where(*conditions)).all():
        facts.setdefault((site, service), []).append((as_utc(arrived), outcome, wait))
    return facts


def linked_wait_facts(
    connection: Connection,
    start: datetime,
    end: datetime,
    *,
    sites: list[str] | None = None,
    services: list[str] | None = None,
) -> dict[tuple[str, str], list[tuple[datetime, float, int, int]]]:
    """(arrived_at, wait seconds, main level, levels) of answers linked to a served visit
    arrived in [start, end), by the visit's desk; suspect presses and "no opinion" left out."""
    v, a = schema.visits, schema.answers
    conditions = [
        a.c.visit_id.is_not(None),
        v.c.arrived_at >= start,
        v.c.arrived_at < end,
        v.c.outcome == "served",
        v.c.wait_seconds.is_not(None),
        a.c.suspect.is_(False),
        a.c.main_level.is_not(None),
    ]
    conditions += desk_filter(v, sites, services)
    query = (
        sa.select(
            v.c.site,
            v.c.service,
            raw_time(v.c.arrived_at),
            v.c.wait_seconds,
            a.c.main_level,
            a.c.main_levels,
        )
        .select_from(a)
        .join(v, v.c.id == a.c.visit_id)
        .where(*conditions)
    )
    linked: dict[tuple[str, str], list[tuple[datetime, float, int, int]]] = {}
    for site, service, arrived, wait, level, levels in connection.execute(query).all():
        linked.setdefault((site, service), []).append((as_utc(arrived), float(wait), level, levels))
    return linked


def linked_waits(
    connection: Connection,
    start: datetime,
    end: datetime,
    *,
    sites: list[str] | None = None,
    services: list[str] | None = None,
) -> dict[tuple[str, str], list[tuple[float, int, int]]]:
    """(wait seconds, main level, levels) of answers linked to a served visit arrived in
    [start, end), by the visit's desk; suspect presses and "no opinion" left out."""
    facts = linked_wait_facts(connection, start, end, sites=sites, services=services)
    return {desk: [row[1:] for row in rows] for desk, rows in facts.items()}
