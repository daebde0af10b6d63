"""Answer counts for the indicators: from the daily rollups when a range is whole local days of
the town, else from the answers themselves. Counts, never formulas (those are pure).

A dashboard period (week, month, quarter, year, campaign) falls on local midnights and reads a
few thousand rollup rows (`rollups.py`); any other range is counted in `answers`. Both give the
same numbers: a rollup row is exactly a GROUP BY of the answers of its day.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.storage import rollups, schema
from sync_server.storage.models import AnswerQuality, ItemCount, LevelCount
from sync_server.storage.schema import desk_filter


def main_level_counts(
    connection: Connection,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    *,
    sites: list[str] | None = None,
    services: list[str] | None = None,
    include_suspect: bool = False,
) -> list[LevelCount]:
    """Answers per desk and main-question level captured in [start, end)."""
    span = rollups.day_span(start, end, zone)
    if span is not None:
        return rollups.main_level_counts(
            connection, span, sites=sites, services=services, include_suspect=include_suspect
        )
    return main_level_counts_from_answers(
        connection, start, end, sites=sites, services=services, include_suspect=include_suspect
    )


def item_counts(
    connection: Connection,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    *,
    services: list[str] | None = None,
    include_suspect: bool = False,
) -> list[ItemCount]:
    """Chosen values per desk, survey version and question, for answers captured in the range."""
    span = rollups.day_span(start, end, zone)
    if span is not None:
        return rollups.item_counts(
            connection, span, services=services, include_suspect=include_suspect
        )
    return item_counts_from_answers(
        connection, start, end, services=services, include_suspect=include_suspect
    )


def answer_quality(
    connection: Connection,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    *,
    services: list[str] | None = None,
) -> list[AnswerQuality]:
    """Every answer (suspect ones included) per desk, partial or not, suspect or not."""
    span = rollups.day_span(start, end, zone)
    if span is not None:
        return rollups.answer_quality(connection, span, services=services)
    return answer_quality_from_answers(connection, start, end, services=services)


# -- the same counts read from the answers, for ranges that are not whole local days ------------


def _captured_in(table: sa.Table, start: datetime, end: datetime) -> list[Any]:
    return [table.c.captured_at >= start, table.c.captured_at < end]


def main_level_counts_from_answers(
    connection: Connection,
    start: datetime,
    end: datetime,
    *,
    sites: list[str] | None = None,
    services: list[str] | None = None,
    include_suspect: bool = False,
) -> list[LevelCount]:
    a = schema.answers
    conditions = [*_captured_in(a, start, end), a.c.main_choice.is_not(None)]
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


def item_counts_from_answers(
    connection: Connection,
    start: datetime,
    end: datetime,
    *,
    services: list[str] | None,
    include_suspect: bool,
) -> list[ItemCount]:
    a, i = schema.answers, schema.answer_items
    conditions = _captured_in(a, start, end)
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


def answer_quality_from_answers(
    connection: Connection, start: datetime, end: datetime, *, services: list[str] | None
) -> list[AnswerQuality]:
    a = schema.answers
    conditions = _captured_in(a, start, end)
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
