"""Monthly indicators per site × service: the one computation behind the API and the dashboard.

Months are calendar months in the town's time zone (Europe/Paris), turned into UTC bounds before
asking storage; suspect presses are left out unless asked for.
"""

from __future__ import annotations

import dataclasses
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sync_server.indicators import formulas, waits
from sync_server.indicators.formulas import Figure
from sync_server.storage import LevelCount, Storage

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(text: str) -> date:
    """'2025-03' -> date(2025, 3, 1); ValueError otherwise."""
    match = _MONTH.match(text)
    if not match:
        raise ValueError(f"expected a month as YYYY-MM, got {text!r}")
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_label(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    months, current = [], first
    while current <= last:
        months.append(current)
        current = add_months(current, 1)
    return months


def month_bounds(month: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants of local midnight on the 1st of `month` and of the next month."""
    start = datetime(month.year, month.month, 1, tzinfo=zone)
    following = add_months(month, 1)
    end = datetime(following.year, following.month, 1, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def current_month(now: datetime, zone: ZoneInfo) -> date:
    local = now.astimezone(zone)
    return date(local.year, local.month, 1)


def last_complete_month(now: datetime, zone: ZoneInfo) -> date:
    return add_months(current_month(now, zone), -1)


@dataclass(frozen=True)
class SatisfactionCounts:
    answers: int = 0  # every answer to the main question, "no opinion" included
    expressed: int = 0
    satisfied: int = 0
    dissatisfied: int = 0


def tally(counts: list[LevelCount]) -> SatisfactionCounts:
    answers = expressed = satisfied = dissatisfied = 0
    for row in counts:
        answers += row.count
        if row.level is None or row.levels is None:
            continue
        expressed += row.count
        mood = formulas.sentiment(row.level, row.levels)
        satisfied += row.count if mood == "satisfied" else 0
        dissatisfied += row.count if mood == "dissatisfied" else 0
    return SatisfactionCounts(answers, expressed, satisfied, dissatisfied)


@dataclass(frozen=True)
class DeskMonth:
    site: str
    site_name: str
    service: str
    service_name: str
    period: str
    figures: dict[str, Figure] = field(default_factory=dict)
    # Arrivals and mean wait per weekday × local hour of arrival (indicators.waits).
    waits_by_hour: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def figures_for(
    counts: SatisfactionCounts,
    waits: list[float],
    *,
    min_answers: int,
    target: float,
    previous: SatisfactionCounts | None = None,
    previous_waits: list[float] | None = None,
) -> dict[str, Figure]:
    """Every figure of one desk for one month, the minimum-N rule applied to each, with the
    previous period's value of each (shown, not hidden) when its counts are given."""
    figures = _figures(counts, waits, min_answers=min_answers, target=target, previous=previous)
    if previous is None:
        return figures
    before = _figures(previous, previous_waits or [], min_answers=min_answers, target=target)
    names = ["net_satisfaction", "margin_of_error"]
    if previous_waits is not None:
        names += ["mean_wait_minutes", "median_wait_minutes"]
    for name in names:
        earlier = before[name]
        figures[name] = dataclasses.replace(
            figures[name], previous=None if earlier.hidden else earlier.value
        )
    return figures


def _figures(
    counts: SatisfactionCounts,
    waits: list[float],
    *,
    min_answers: int,
    target: float,
    previous: SatisfactionCounts | None = None,
) -> dict[str, Figure]:
    rate = formulas.satisfaction_rate(counts.satisfied, counts.expressed)
    shown_rate = formulas.publishable(rate, counts.expressed, min_answers)
    previous_rate = None
    if previous is not None:
        earlier = formulas.satisfaction_rate(previous.satisfied, previous.expressed)
        previous_rate = formulas.publishable(earlier, previous.expressed, min_answers).value
    shown_rate = dataclasses.replace(
        shown_rate,
        previous=previous_rate,
        target=target,
        gap=formulas.gap(shown_rate.value, target),
    )
    net = formulas.net_satisfaction(counts.satisfied, counts.dissatisfied, counts.expressed)
    margin = formulas.margin_of_error(rate, counts.expressed) if rate is not None else None
    shown_margin = formulas.publishable(margin, counts.expressed, min_answers)
    if not shown_margin.hidden and counts.expressed < formulas.SMALL_SAMPLE:
        shown_margin = dataclasses.replace(shown_margin, warning="small_sample")
    return {
        "answers": Figure(value=counts.answers, n=counts.answers),
        "satisfaction_rate": shown_rate,
        "net_satisfaction": formulas.publishable(net, counts.expressed, min_answers),
        "margin_of_error": shown_margin,
        "mean_wait_minutes": formulas.publishable(
            formulas.mean_minutes(waits), len(waits), min_answers
        ),
        "median_wait_minutes": formulas.publishable(
            formulas.median_minutes(waits), len(waits), min_answers
        ),
    }


def compute(
    storage: Storage,
    first: date,
    last: date,
    *,
    min_answers: int,
    target: float,
    timezone: str = "Europe/Paris",
    sites: list[str] | None = None,
    services: list[str] | None = None,
    include_suspect: bool = False,
    with_waits: bool = True,
) -> list[DeskMonth]:
    """Figures for every desk (optionally filtered) and every month from `first` to `last`.

    Without `with_waits` the visits are not read and the wait figures are left out (a
    satisfaction trend needs none, and a year of visits is the costly part)."""
    zone = ZoneInfo(timezone)
    desks = storage.desks(sites=sites, services=services)
    by_month: dict[date, dict[tuple[str, str], SatisfactionCounts]] = {}
    # One month earlier than asked, for the "previous period" column.
    months = months_between(add_months(first, -1), last)
    for month in months:
        start, end = month_bounds(month, zone)
        rows = storage.main_level_counts(
            start, end, sites=sites, services=services, include_suspect=include_suspect
        )
        grouped: dict[tuple[str, str], list[LevelCount]] = {}
        for row in rows:
            grouped.setdefault((row.site, row.service), []).append(row)
        by_month[month] = {key: tally(value) for key, value in grouped.items()}
    # Visits are read once for the whole range and shared out by month of arrival.
    starts = [month_bounds(month, zone)[0] for month in months]
    span_end = month_bounds(last, zone)[1]
    waits_by_month: dict[date, dict[tuple[str, str], list[float]]] = {m: {} for m in months}
    visits_by_month: dict[date, dict[tuple[str, str], list[waits.VisitFact]]] = {
        m: {} for m in months
    }
    linked_by_month: dict[date, dict[tuple[str, str], list[tuple[float, int, int]]]] = {
        m: {} for m in months
    }
    facts = (
        storage.visit_facts(starts[0], span_end, sites=sites, services=services)
        if with_waits
        else {}
    )
    for key, rows in facts.items():
        for arrived_at, outcome, wait in rows:
            month = months[bisect_right(starts, arrived_at) - 1]
            visits_by_month[month].setdefault(key, []).append(
                waits.VisitFact(arrived_at, outcome, wait)
            )
            if outcome == "served" and wait is not None:
                waits_by_month[month].setdefault(key, []).append(float(wait))
    linked = (
        storage.linked_wait_facts(starts[1], span_end, sites=sites, services=services)
        if with_waits
        else {}
    )
    for key, rows in linked.items():
        for arrived_at, *answer in rows:
            month = months[bisect_right(starts, arrived_at) - 1]
            linked_by_month[month].setdefault(key, []).append(tuple(answer))
    result = []
    for month in months_between(first, last):
        previous_month = add_months(month, -1)
        for desk in desks:
            key = (desk.site.slug, desk.service.slug)
            figures = figures_for(
                by_month[month].get(key, SatisfactionCounts()),
                waits_by_month[month].get(key, []),
                min_answers=min_answers,
                target=target,
                previous=by_month[previous_month].get(key, SatisfactionCounts()),
                previous_waits=waits_by_month[previous_month].get(key, []) if with_waits else None,
            )
            visits = visits_by_month[month].get(key, [])
            if with_waits:
                figures.update(
                    waits.wait_figures(
                        visits,
                        desk.service.wait_threshold_minutes,
                        min_answers,
                        linked_by_month[month].get(key, []),
                    )
                )
            result.append(
                DeskMonth(
                    site=desk.site.slug,
                    site_name=desk.site.name,
                    service=desk.service.slug,
                    service_name=desk.service.name,
                    period=month_label(month),
                    figures=figures,
                    waits_by_hour=waits.by_hour_and_weekday(visits, zone, min_answers),
                )
            )
    return result
