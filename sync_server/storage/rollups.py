"""Daily rollups of the answers: what the dashboard's period figures read at town scale.

A period of the dashboard (week, month, quarter, year, campaign) is a run of whole local days,
so counting answers per local day and desk once, when they are projected, lets a month read a
few thousand rows instead of every answer. The rows of a (site, service, day) always equal a
GROUP BY of that day's answers: answers are only ever added, by the one projection step that
adds each exactly once (`projection.py`), and that step adds their counts to their days' rows
(`add`) in the same transaction, reading and rewriting only those days' few rows, however many
answers the day already holds. `rebuild` recomputes everything from the answers. `counts.py`
reads the rollups for ranges that fall on local midnights, and the answers themselves for any
other range.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.storage import schema
from sync_server.storage.models import AnswerQuality, ItemCount, LevelCount
from sync_server.storage.schema import desk_filter

DaySpan = tuple[date, date]  # [first day, day after the last)
ZONE_KEY = "rollup_timezone"  # town_settings: the zone the `day` columns were computed in


def day_span(start: datetime, end: datetime, zone: ZoneInfo) -> DaySpan | None:
    """The local days [first, stop) covering exactly [start, end), or None when either bound
    is not a local midnight."""
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if local_start.time() != time(0) or local_end.time() != time(0):
        return None
    return local_start.date(), local_end.date()


def _answer_rollup(a: sa.Table) -> list[sa.ColumnElement[object]]:
    """answer_days' key columns, as computed from the answers table."""
    return [
        a.c.day,
        a.c.site,
        a.c.service,
        a.c.status,
        a.c.suspect,
        a.c.main_choice.is_not(None),
        a.c.main_level,
        a.c.main_levels,
    ]


def _item_rollup(a: sa.Table, i: sa.Table) -> list[sa.ColumnElement[object]]:
    return [
        a.c.day,
        a.c.site,
        a.c.service,
        a.c.survey_id,
        a.c.survey_version,
        a.c.suspect,
        i.c.question_id,
        i.c.value,
    ]


def _fill(connection: Connection, where: list[sa.ColumnElement[bool]], params: object) -> None:
    """INSERT … SELECT … GROUP BY of both rollups for the answers matching `where`."""
    a, i = schema.answers, schema.answer_items
    keys = _answer_rollup(a)
    names = [c.name for c in schema.answer_days.c if c.name != "answers"]
    select = sa.select(*keys, sa.func.count()).where(*where).group_by(*keys)
    connection.execute(schema.answer_days.insert().from_select([*names, "answers"], select), params)
    keys = _item_rollup(a, i)
    names = [c.name for c in schema.item_days.c if c.name != "answers"]
    select = (
        sa.select(*keys, sa.func.count())
        .select_from(a.join(i, i.c.answer_id == a.c.id))
        .where(*where)
        .group_by(*keys)
    )
    connection.execute(schema.item_days.insert().from_select([*names, "answers"], select), params)


# A rollup row's key (every column but `answers`), in the table's column order.
AnswerDayKey = tuple[date, str, str, str, bool, bool, int | None, int | None]
ItemDayKey = tuple[date, str, str, str, int, bool, str, str]


def add(
    connection: Connection,
    answer_counts: Counter[AnswerDayKey],
    item_counts: Counter[ItemDayKey],
) -> None:
    """Add the counts of answers projected just now to the rollup rows of their days: the
    days' rows are read, summed with the new counts, and written back as one row per key."""
    for table, counts in ((schema.answer_days, answer_counts), (schema.item_days, item_counts)):
        if counts:
            _add_to(connection, table, counts)


def _add_to(connection: Connection, table: sa.Table, counts: Counter[Any]) -> None:
    names = [c.name for c in table.c if c.name != "answers"]
    day_at, site_at, service_at = (names.index(name) for name in ("day", "site", "service"))

    def desk_day(key: tuple[Any, ...]) -> tuple[str, str, date]:
        return key[site_at], key[service_at], key[day_at]

    desks = sorted({desk_day(key) for key in counts})
    days = sorted({day for _, _, day in desks})
    services = sorted({service for _, service, _ in desks})
    wanted = set(desks)
    merged: Counter[Any] = Counter()
    for row in connection.execute(
        sa.select(*(table.c[name] for name in names), table.c.answers).where(
            table.c.day.in_(days), table.c.service.in_(services)
        )
    ):
        key = tuple(row[: len(names)])
        if desk_day(key) in wanted:
            merged[key] += int(row[-1])
    merged.update(counts)
    params = [{"r_site": site, "r_service": service, "r_day": day} for site, service, day in desks]
    connection.execute(
        table.delete().where(
            table.c.site == sa.bindparam("r_site"),
            table.c.service == sa.bindparam("r_service"),
            table.c.day == sa.bindparam("r_day", type_=sa.Date),
        ),
        params,
    )
    connection.execute(
        table.insert(),
        [
            {**dict(zip(names, key, strict=True)), "answers": n}
            for key, n in sorted(merged.items(), key=_sortable)
        ],
    )


def _sortable(item: tuple[tuple[Any, ...], int]) -> tuple[Any, ...]:
    # None sorts before any value, so rows are written in a stable order.
    return tuple((value is not None, value) for value in item[0])


def rebuild(connection: Connection, zone: ZoneInfo) -> None:
    """Every answer's local day computed again in `zone`, and both rollups from scratch (after
    the migration that adds them, or when the town's time zone setting changes)."""
    a = schema.answers
    first, last = connection.execute(
        sa.select(sa.func.min(a.c.captured_at), sa.func.max(a.c.captured_at))
    ).one()
    if first is not None:
        day, stop = first.astimezone(zone).date(), last.astimezone(zone).date()
        params = []
        while day <= stop:
            params.append(
                {
                    "d": day,
                    "d_start": _midnight(day, zone),
                    "d_end": _midnight(day + timedelta(1), zone),
                }
            )
            day += timedelta(days=1)
        connection.execute(
            a.update()
            .where(
                a.c.captured_at >= sa.bindparam("d_start"), a.c.captured_at < sa.bindparam("d_end")
            )
            .values(day=sa.bindparam("d", type_=sa.Date)),
            params,
        )
    connection.execute(schema.answer_days.delete())
    connection.execute(schema.item_days.delete())
    _fill(connection, [], {})
    settings = schema.town_settings
    connection.execute(settings.delete().where(settings.c.key == ZONE_KEY))
    connection.execute(settings.insert().values(key=ZONE_KEY, value=zone.key))


def built_for(connection: Connection) -> str | None:
    """The time zone the rollups were built in (None: never built)."""
    settings = schema.town_settings
    return connection.scalar(sa.select(settings.c.value).where(settings.c.key == ZONE_KEY))


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone)


def main_level_counts(
    connection: Connection,
    span: DaySpan,
    *,
    sites: list[str] | None,
    services: list[str] | None,
    include_suspect: bool,
) -> list[LevelCount]:
    """As `counts.main_level_counts_from_answers`, for whole local days."""
    d = schema.answer_days
    conditions = [d.c.day >= span[0], d.c.day < span[1], d.c.has_main.is_(True)]
    conditions += desk_filter(d, sites, services)
    if not include_suspect:
        conditions.append(d.c.suspect.is_(False))
    keys = (d.c.site, d.c.service, d.c.main_level, d.c.main_levels)
    query = sa.select(*keys, sa.func.sum(d.c.answers)).where(*conditions).group_by(*keys)
    return [
        LevelCount(site=row[0], service=row[1], level=row[2], levels=row[3], count=int(row[4]))
        for row in connection.execute(query)
    ]


def answer_quality(
    connection: Connection, span: DaySpan, *, services: list[str] | None
) -> list[AnswerQuality]:
    """As `counts.answer_quality_from_answers`, for whole local days."""
    d = schema.answer_days
    conditions = [d.c.day >= span[0], d.c.day < span[1], *desk_filter(d, None, services)]
    partial = d.c.status == "partial"
    keys = (d.c.site, d.c.service, partial, d.c.suspect)
    query = sa.select(*keys, sa.func.sum(d.c.answers)).where(*conditions).group_by(*keys)
    return [
        AnswerQuality(row[0], row[1], bool(row[2]), bool(row[3]), int(row[4]))
        for row in connection.execute(query)
    ]


def item_counts(
    connection: Connection, span: DaySpan, *, services: list[str] | None, include_suspect: bool
) -> list[ItemCount]:
    """As `counts.item_counts_from_answers`, for whole local days."""
    d = schema.item_days
    conditions = [d.c.day >= span[0], d.c.day < span[1], *desk_filter(d, None, services)]
    if not include_suspect:
        conditions.append(d.c.suspect.is_(False))
    keys = (d.c.site, d.c.service, d.c.survey_id, d.c.survey_version, d.c.question_id, d.c.value)
    query = sa.select(*keys, sa.func.sum(d.c.answers)).where(*conditions).group_by(*keys)
    return [ItemCount(*row[:-1], int(row[-1])) for row in connection.execute(query)]
