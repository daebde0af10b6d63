"""`GET /api/v1/indicators`: the figures per site × service, for a run of months or for one
period of any kind, for a logged-in user. The same computation, targets, previous period and
units as the pages, the exports and the PDF reports."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from sync_server.access import visible_services
from sync_server.api.answers import IndicatorsAnswer
from sync_server.api.deps import IndicatorUserDep, SettingsDep, StorageDep
from sync_server.api.problems import ApiError
from sync_server.indicators import periods, pipeline
from sync_server.indicators.figures import DeskFigures
from sync_server.indicators.periods import InvalidPeriod, Period
from sync_server.indicators.query import EVERY, IndicatorQuery, Rules, Scope

router = APIRouter(prefix="/api/v1", tags=["indicators"])

MonthParam = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
MAX_MONTHS = 36
# The months the API answers for: the product's figures start after 2000 and a year beyond 2100
# is a typo; outside, a clear 422 rather than a calendar overflowing further down.
FIRST_MONTH, LAST_MONTH = "2000-01", "2100-12"


@router.get("/indicators", response_model=None, responses={200: {"model": IndicatorsAnswer}})
def indicators(
    storage: StorageDep,
    settings: SettingsDep,
    user: IndicatorUserDep,
    from_: Annotated[str | None, Query(alias="from", pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    to: MonthParam = None,
    kind: Annotated[str | None, Query(max_length=16)] = None,
    period: Annotated[str | None, Query(max_length=32)] = None,
    site: str | None = None,
    service: str | None = None,
    include_suspect: bool = False,
) -> dict[str, Any]:
    """Figures for each desk and month from `from` to `to` (YYYY-MM, Europe/Paris months;
    default: the current month and the two before), or for the one period `kind` + `period`
    names, as the pages and exports do (`kind=quarter&period=2026-Q1`). Each figure is
    {value, n, hidden, reason, previous, target, gap, warning, unit, gap_unit, n_counts, low,
    high}; a figure from fewer than `min_answers` answers is hidden."""
    for name, value in (("from", from_), ("to", to)):
        if value is not None and not FIRST_MONTH <= value <= LAST_MONTH:
            detail = f"'{name}' must be a month from {FIRST_MONTH} to {LAST_MONTH}"
            raise ApiError(422, "invalid_query", "Invalid period", detail)
    # A service manager sees only their own services, whatever the query asks.
    services = visible_services(user, [service] if service else None)
    scope = Scope.of([site] if site else None, services, include_suspect)
    rules = Rules.from_settings(settings)
    if period is not None or kind is not None:
        if from_ is not None or to is not None:
            detail = "give either 'kind' and 'period', or 'from' and 'to'"
            raise ApiError(422, "invalid_query", "Invalid period", detail)
        chosen = _one_period(kind, period)
        query = IndicatorQuery(chosen, scope, rules, EVERY)
        rows, lag = pipeline.compute_with_lag(storage, query)
        first, last = chosen, chosen
    else:
        months = _months(from_, to, ZoneInfo(settings.timezone))
        query = IndicatorQuery(months[-1], scope, rules, EVERY)
        rows, lag = pipeline.compute_with_lag(storage, query, len(months))
        first, last = months[0], months[-1]
    return {
        "from": first.key,
        "to": last.key,
        "kind": last.kind,
        "timezone": settings.timezone,
        "min_answers": settings.min_answers,
        # The satisfaction target where none is set on /targets; each figure has its own.
        "target": settings.target_satisfaction_rate,
        "rows": [as_row(row) for row in rows],
        # Records received and not yet counted in these figures (a moment's work, usually),
        # read in the figures' snapshot.
        "figures_lag": {
            "pending_records": lag.records,
            "oldest_received_at": None if lag.since is None else lag.since.isoformat(),
        },
    }


def _one_period(kind: str | None, text: str | None) -> Period:
    """The period `kind` (month by default) and `text` name, within the months the API
    answers for; a 422 problem otherwise."""
    if text is None:
        raise ApiError(422, "invalid_query", "Invalid period", "'kind' needs a 'period'")
    try:
        chosen = periods.parse(kind or "month", text)
    except InvalidPeriod as error:
        raise ApiError(422, "invalid_query", "Invalid period", str(error)) from None
    if not FIRST_MONTH <= f"{chosen.start:%Y-%m}" <= f"{chosen.last:%Y-%m}" <= LAST_MONTH:
        detail = f"the period must lie within {FIRST_MONTH} to {LAST_MONTH}"
        raise ApiError(422, "invalid_query", "Invalid period", detail)
    return chosen


def _months(from_: str | None, to: str | None, zone: ZoneInfo) -> list[Period]:
    last = periods.parse_month(to) if to else periods.current_month(datetime.now(UTC), zone)
    first = periods.parse_month(from_) if from_ else periods.add_months(last, -2)
    if first > last:
        raise ApiError(422, "invalid_query", "Invalid period", "'from' is after 'to'")
    months = periods.months_between(first, last)
    if len(months) > MAX_MONTHS:
        raise ApiError(422, "invalid_query", "Period too long", f"at most {MAX_MONTHS} months")
    return months


def as_row(desk: DeskFigures) -> dict[str, Any]:
    """A desk and period as the API documents it: every figure (each question's rate as
    "question:<id>"), arrivals by weekday × hour, the reasons for dissatisfaction ranked and
    the waits visitors declared against the measured ones."""
    return {
        "site": desk.site,
        "site_name": desk.site_name,
        "service": desk.service,
        "service_name": desk.service_name,
        "period": desk.period,
        "figures": {key: dataclasses.asdict(figure) for key, figure in desk.every_figure().items()},
        "waits_by_hour": [dataclasses.asdict(cell) for cell in desk.cells],
        "reasons": [dataclasses.asdict(reason) for reason in desk.reasons],
        "said_waits": [dataclasses.asdict(band) for band in desk.said_waits],
    }
