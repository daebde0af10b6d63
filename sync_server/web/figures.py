"""The period computation called the same way by every page, export and report."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sync_server.indicators import periodic, public_holidays
from sync_server.indicators.periods import Period
from sync_server.settings import Settings
from sync_server.storage import Storage


def desk_figures(
    storage: Storage,
    settings: Settings,
    period: Period,
    *,
    services: list[str] | None,
    sites: list[str] | None = None,
    include_suspect: bool = False,
    previous_waits: bool = True,
) -> list[periodic.DeskPeriod]:
    return periodic.compute(
        storage,
        period,
        min_answers=settings.min_answers,
        default_target=settings.target_satisfaction_rate,
        timezone=settings.timezone,
        sites=sites,
        services=services,
        include_suspect=include_suspect,
        silent_devices=periodic.silent_devices_by_desk(
            storage, datetime.now(UTC), settings.silent_after_hours
        ),
        holidays=public_holidays.calendar(settings.holidays_region),
        today=today(settings),
        previous_waits=previous_waits,
    )


def today(settings: Settings) -> date:
    return datetime.now(ZoneInfo(settings.timezone)).date()
