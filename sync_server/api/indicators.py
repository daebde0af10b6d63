"""`GET /api/v1/indicators`: monthly figures per site × service, for a logged-in user."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from sync_server.access import visible_services
from sync_server.api.deps import IndicatorUserDep, SettingsDep, StorageDep
from sync_server.api.problems import ApiError
from sync_server.indicators import periods, pipeline
from sync_server.indicators.figures import DeskFigures
from sync_server.indicators.query import WAITS, IndicatorQuery, Rules, Scope

router = APIRouter(prefix="/api/v1", tags=["indicators"])

MonthParam = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
MAX_MONTHS = 36
# The months the API answers for: the product's figures start after 2000 and a year beyond 2100
# is a typo; outside, a clear 422 rather than a calendar overflowing further down.
FIRST_MONTH, LAST_MONTH = "2000-01", "2100-12"


@router.get("/indicators")
def indicators(
    storage: StorageDep,
    settings: SettingsDep,
    user: IndicatorUserDep,
    from_: Annotated[str | None, Query(alias="from", pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    to: MonthParam = None,
    site: str | None = None,
    service: str | None = None,
    include_suspect: bool = False,
) -> dict[str, Any]:
    """Figures for each desk and month from `from` to `to` (YYYY-MM, Europe/Paris months;
    default: the current month and the two before). Each figure is {value, n, hidden, reason, …};
    a figure from fewer than `min_answers` answers is hidden."""
    for name, value in (("from", from_), ("to", to)):
        if value is not None and not FIRST_MONTH <= value <= LAST_MONTH:
            detail = f"'{name}' must be a month from {FIRST_MONTH} to {LAST_MONTH}"
            raise ApiError(422, "invalid_query", "Invalid period", detail)
    zone = ZoneInfo(settings.timezone)
    last = periods.parse_month(to) if to else periods.current_month(datetime.now(UTC), zone)
    first = periods.parse_month(from_) if from_ else periods.add_months(last, -2)
    if first > last:
        raise ApiError(422, "invalid_query", "Invalid period", "'from' is after 'to'")
    months = periods.months_between(first, last)
    if len(months) > MAX_MONTHS:
        raise ApiError(422, "invalid_query", "Period too long", f"at most {MAX_MONTHS} months")
    # A service manager sees only their own services, whatever the query asks.
    services = visible_services(user, [service] if service else None)
    scope = Scope.of([site] if site else None, services, include_suspect)
    query = IndicatorQuery(months[-1], scope, Rules.from_settings(settings), WAITS)
    rows = pipeline.compute_months(storage, query, len(months))
    return {
        "from": months[0].key,
        "to": months[-1].key,
        "timezone": settings.timezone,
        "min_answers": settings.min_answers,
        "target": settings.target_satisfaction_rate,
        "rows": [as_row(row) for row in rows],
    }


def as_row(desk: DeskFigures) -> dict[str, Any]:
    """A desk month as the API documents it: figures, and arrivals by weekday × hour."""
    return {
        "site": desk.site,
        "site_name": desk.site_name,
        "service": desk.service,
        "service_name": desk.service_name,
        "period": desk.period,
        "figures": {key: dataclasses.asdict(figure) for key, figure in desk.figures.items()},
        "waits_by_hour": [dataclasses.asdict(cell) for cell in desk.cells],
    }
