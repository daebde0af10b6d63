"""Reporting periods: ISO week, month, quarter, year, or a custom survey-campaign date range.

A period is a half-open range of local dates [start, end) in the town's time zone; `bounds` turns
it into UTC instants for storage. Each period knows the one before it (same length, just before),
for the "previous period" column. The month arithmetic of the whole server is `add_months`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Kind = Literal["week", "month", "quarter", "year", "campaign"]
KINDS: tuple[Kind, ...] = ("week", "month", "quarter", "year", "campaign")
MAX_CAMPAIGN_DAYS = 3 * 366

_PATTERNS: dict[Kind, re.Pattern[str]] = {
    "week": re.compile(r"^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$"),
    "month": re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "year": re.compile(r"^(\d{4})$"),
    "campaign": re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$"),
}


class InvalidPeriod(ValueError):
    """The period text does not name a period of its kind."""


def add_months(day: date, count: int) -> date:
    """The first day of the month `count` months after (or before) the month of `day`."""
    index = day.year * 12 + day.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    kind: Kind
    start: date  # first local day
    end: date  # day after the last one

    @property
    def key(self) -> str:
        """The text form `parse` reads back: 2025-W10, 2025-03, 2025-Q1, 2025, or a..b."""
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year:04d}-W{week:02d}"
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year:04d}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year":
            return f"{self.start.year:04d}"
        return f"{self.start.isoformat()}..{self.last.isoformat()}"

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> Period:
        """The period of the same kind just before (a campaign: as many days, just before)."""
        if self.kind == "week":
            return Period("week", self.start - timedelta(days=7), self.start)
        if self.kind in ("month", "quarter", "year"):
            months = {"month": 1, "quarter": 3, "year": 12}[self.kind]
            return Period(self.kind, add_months(self.start, -months), self.start)
        return Period("campaign", self.start - timedelta(days=self.days), self.start)

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """UTC instants of local midnight at `start` and at `end`."""
        start = datetime(self.start.year, self.start.month, self.start.day, tzinfo=zone)
        end = datetime(self.end.year, self.end.month, self.end.day, tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)


def parse(kind: str, text: str) -> Period:
    """The period of `kind` named by `text`; InvalidPeriod otherwise."""
    if kind not in _PATTERNS:
        raise InvalidPeriod(f"unknown period kind {kind!r}")
    match = _PATTERNS[kind].match(text)  # type: ignore[index]
    if not match:
        raise InvalidPeriod(f"{text!r} is not a {kind}")
    try:
        if kind == "week":
            start = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
            return Period("week", start, start + timedelta(days=7))
        if kind == "month":
            start = date(int(match.group(1)), int(match.group(2)), 1)
            return Period("month", start, add_months(start, 1))
        if kind == "quarter":
            start = date(int(match.group(1)), 3 * (int(match.group(2)) - 1) + 1, 1)
            return Period("quarter", start, add_months(start, 3))
        if kind == "year":
            start = date(int(match.group(1)), 1, 1)
            return Period("year", start, date(start.year + 1, 1, 1))
        first, last = date.fromisoformat(match.group(1)), date.fromisoformat(match.group(2))
    except ValueError as error:  # e.g. week 53 of a 52-week year, 31 February
        raise InvalidPeriod(str(error)) from None
    if last < first:
        raise InvalidPeriod("a campaign ends before it starts")
    if (last - first).days >= MAX_CAMPAIGN_DAYS:
        raise InvalidPeriod("a campaign is at most three years long")
    return Period("campaign", first, last + timedelta(days=1))


def containing(kind: Kind, day: date) -> Period:
    """The week, month, quarter or year that contains `day` (a campaign: that day alone)."""
    if kind == "week":
        start = day - timedelta(days=day.weekday())
        return Period("week", start, start + timedelta(days=7))
    if kind == "month":
        start = day.replace(day=1)
        return Period("month", start, add_months(start, 1))
    if kind == "quarter":
        start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return Period("quarter", start, add_months(start, 3))
    if kind == "year":
        return Period("year", date(day.year, 1, 1), date(day.year + 1, 1, 1))
    return Period("campaign", day, day + timedelta(days=1))


def default_period(kind: Kind, today: date) -> Period:
    """The last complete period of `kind` before `today` (the monthly meeting's default)."""
    if kind == "campaign":
        month = containing("month", today).previous()
        return Period("campaign", month.start, month.end)
    return containing(kind, today).previous()


def last_months(period: Period, count: int) -> list[Period]:
    """`count` months ending with the month of `period`'s last day, oldest first (the service
    page's trend: a year's trend ends in its December, a quarter's in its third month)."""
    months = [containing("month", period.end - timedelta(days=1))]
    while len(months) < count:
        months.insert(0, months[0].previous())
    return months


# -- months ------------------------------------------------------------------------------------


def parse_month(text: str) -> date:
    """'2025-03' -> date(2025, 3, 1); InvalidPeriod (a ValueError) otherwise."""
    return parse("month", text).start


def months_between(first: date, last: date) -> list[Period]:
    """The months from the one containing `first` to the one containing `last`, oldest first
    (none when `last` comes first)."""
    if last < first:
        return []
    months = [containing("month", first)]
    while months[-1].end <= last:
        months.append(Period("month", months[-1].end, add_months(months[-1].end, 1)))
    return months


def month_bounds(month: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants of local midnight on the 1st of `month` and of the next month."""
    return containing("month", month).bounds(zone)


def current_month(now: datetime, zone: ZoneInfo) -> date:
    """The first day of the local month `now` falls in."""
    return containing("month", now.astimezone(zone).date()).start


def last_complete_month(now: datetime, zone: ZoneInfo) -> date:
    return add_months(current_month(now, zone), -1)
