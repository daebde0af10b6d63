"""`GET /api/v1/indicators`: monthly figures per site × service, for a logged-in user."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from sync_server.access import visible_services
from sync_server.api.deps import IndicatorUserDep, SettingsDep, StorageDep
from sync_server.api.problems import ApiError
from sync_server.indicators import monthly

router = APIRouter(prefix="/api/v1", tags=["indicators"])

MonthParam = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
MAX_MONTHS = 36


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
    zone = ZoneInfo(settings.timezone)
    last = monthly.parse_month(to) if to else monthly.current_month(datetime.now(UTC), zone)
    first = monthly.parse_month(from_) if from_ else monthly.add_months(last, -2)
    if first > last:
        raise ApiError(422, "invalid_query", "Invalid period", "'from' is after 'to'")
    if len(monthly.months_between(first, last)) > MAX_MONTHS:
        raise ApiError(422, "invalid_query", "Period too long", f"at most {MAX_MONTHS} months")
    # A service manager sees only their own services, whatever the query asks.
    services = visible_services(user, [service] if service else None)
    rows = monthly.compute(
        storage,
        first,
        last,
        min_answers=settings.min_answers,
        target=settings.target_satisfaction_rate,
        timezone=settings.timezone,
        sites=[site] if site else None,
        services=services,
        include_suspect=include_suspect,
    )
    return {
        "from": monthly.month_label(first),
        "to": monthly.month_label(last),
        "timezone": settings.timezone,
        "min_answers": settings.min_answers,
        "target": settings.target_satisfaction_rate,
        "rows": [row.to_dict() for row in rows],
    }
