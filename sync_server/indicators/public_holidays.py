"""French public holidays (jours fériés), the days a working-day deadline skips.

The dates come from the `holidays` package (Easter-based feasts, Alsace-Moselle's Good Friday and
26 December, the overseas departments' abolition days); this module only names the calendars a
town can choose (setting `holidays_region`) and keeps each year's dates once computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

import holidays

# Setting value → the `holidays` package's subdivision of France (None: metropolitan France).
REGIONS: dict[str, str | None] = {
    "metropole": None,
    "alsace-moselle": "57",  # Moselle, Bas-Rhin and Haut-Rhin share the local law's two extra days
    "guadeloupe": "971",
    "martinique": "972",
    "guyane": "973",
    "la-reunion": "974",
    "mayotte": "976",
}
DEFAULT_REGION = "metropole"


class UnknownRegion(ValueError):
    """The holiday calendar named in the settings is not one of REGIONS."""


@cache
def _year(subdivision: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays.France(subdiv=subdivision, years=year))


@dataclass(frozen=True)
class HolidayCalendar:
    """`day in calendar` for any year; pass it where a formula takes its holidays."""

    region: str

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        return day in _year(REGIONS[self.region], day.year)

    def in_year(self, year: int) -> frozenset[date]:
        return _year(REGIONS[self.region], year)


def calendar(region: str) -> HolidayCalendar:
    if region not in REGIONS:
        raise UnknownRegion(f"unknown holiday calendar {region!r}; one of {', '.join(REGIONS)}")
    return HolidayCalendar(region)
