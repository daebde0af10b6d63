"""Visits for the indicators: what agents recorded at the desks (arrivals, outcomes, waits) and
the answers linked to a visit. Facts and counts, never formulas (those are pure)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.storage import schema
from sync_server.storage.db import as_utc, raw_time
from sync_server.storage.schema import desk_filter


def visitor_counts(
    connection: Connection,
    start: datetime,
    end: datetime,
    *,
    services: list[str] | None = None,
) -> dict[tuple[str, str], int]:
    """Visitors recorded by agents per desk, by arrival time: every outcome but "cancelled"
    (a mistaken tap taken back is not a visitor, as in the wait figures)."""
    v = schema.visits
    conditions = [v.c.arrived_at >= start, v.c.arrived_at < end, v.c.outcome != "cancelled"]
    if services is not None:
        conditions.append(v.c.service.in_(services))
    query = sa.select(v.c.site, v.c.service, sa.func.count()).where(*conditions)
    query = query.group_by(v.c.site, v.c.service)
    return {(row[0], row[1]): row[2] for row in connection.execute(query)}


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


def said_wait_facts(
    connection: Connection,
    start: datetime,
    end: datetime,
    *,
    question_ids: list[str],
    sites: list[str] | None = None,
    services: list[str] | None = None,
) -> dict[tuple[str, str], list[tuple[str, float]]]:
    """(declared band, measured wait seconds) of answers captured in [start, end) that say how
    long the visitor waited (`question_ids`) and are linked to a served visit, by the answer's
    desk; suspect presses left out."""
    if not question_ids:
        return {}
    a, i, v = schema.answers, schema.answer_items, schema.visits
    conditions = [
        a.c.captured_at >= start,
        a.c.captured_at < end,
        a.c.visit_id.is_not(None),
        a.c.suspect.is_(False),
        i.c.question_id.in_(question_ids),
        v.c.outcome == "served",
        v.c.wait_seconds.is_not(None),
    ]
    conditions += desk_filter(a, sites, services)
    query = (
        sa.select(a.c.site, a.c.service, i.c.value, v.c.wait_seconds)
        .select_from(a.join(i, i.c.answer_id == a.c.id).join(v, v.c.id == a.c.visit_id))
        .where(*conditions)
    )
    said: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for site, service, value, wait in connection.execute(query).all():
        said.setdefault((site, service), []).append((value, float(wait)))
    return said
