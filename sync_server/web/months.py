"""Month periods for the dashboard: parsing `?month=YYYY-MM`, the default, the selector's options."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from babel.dates import format_date

from sync_server import i18n

MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class MonthOption:
    value: str
    label: str


def shift(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def last_complete_month(today: date) -> date:
    """The month the monthly Qualivilles meeting looks at: the one before today's."""
    return shift(today.replace(day=1), -1)


def parse_month(value: str | None, today: date) -> date:
    """`YYYY-MM` within the selectable range, else the last complete month."""
    match = MONTH_PATTERN.match(value or "")
    if match is None:
        return last_complete_month(today)
    month = date(int(match[1]), int(match[2]), 1)
    return month if month <= today.replace(day=1) else last_complete_month(today)


def month_label(month: date, language: str) -> str:
    label = format_date(month, "LLLL yyyy", locale=i18n.BABEL_LOCALES[language])
    return label[:1].upper() + label[1:]


def month_options(today: date, language: str, count: int = 13) -> list[MonthOption]:
    """The current month (in progress) and the `count - 1` before it, newest first."""
    current = today.replace(day=1)
    return [
        MonthOption(f"{m:%Y-%m}", month_label(m, language))
        for m in (shift(current, -i) for i in range(count))
    ]
