"""Dates and times as a person reads them on a page: in the town's time zone, day first.

Storage keeps aware UTC datetimes; printed as stored, an event of 2 December at 0:30 in Paris
would read 01/12. Pages show a moment only through `shown` (the templates' `local` filter).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

Style = Literal["date", "minute", "second", "time"]

FORMATS: dict[Style, str] = {
    "date": "%d/%m/%Y",
    "minute": "%d/%m/%Y %H:%M",
    "second": "%d/%m/%Y %H:%M:%S",
    "time": "%H:%M",
}


def in_town(moment: datetime, zone: ZoneInfo) -> datetime:
    """`moment` as the town's clocks read it. A naive datetime is refused: its zone is unknown."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: no time zone to convert from")
    return moment.astimezone(zone)


def shown(value: date | datetime, zone: ZoneInfo, style: Style = "minute") -> str:
    """`value` as a page shows it: a moment in the town's zone, a calendar day as it is."""
    if isinstance(value, datetime):
        value = in_town(value, zone)
    elif style != "date":
        raise ValueError(f"a calendar day has no time to show as {style!r}")
    return value.strftime(FORMATS[style])
