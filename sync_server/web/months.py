"""Month periods for the dashboard: `?month=YYYY-MM`, the default month, the selector."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel.dates import format_date

from sync_server import i18n
from sync_server.indicators.monthly import add_months
from sync_server.indicators.monthly import parse_month as parse_month_strict

SELECTABLE_MONTHS = 13


@dataclass(frozen=True)
class MonthOption:
    value: str
    label: str


def last_complete_month(today: date) -> date:
    """The month the monthly Qualivilles meeting looks at: the one before today's."""
    return add_months(today.replace(day=1), -1)


def parse_month(value: str | None, today: date) -> date:
    """`YYYY-MM` up to the current month, else (missing, malformed, future) the default."""
    try:
        month = parse_month_strict(value or "")
    except ValueError:
        return last_complete_month(today)
    return month if month <= today.replace(day=1) else last_complete_month(today)


def month_label(month: date, language: str) -> str:
    label = format_date(month, "LLLL yyyy", locale=i18n.BABEL_LOCALES[language])
    return label[:1].upper() + label[1:]


def month_options(today: date, language: str, selected: date) -> list[MonthOption]:
    """The current month (in progress) and the year before it, newest first; `selected` kept."""
    current = today.replace(day=1)
    months = [add_months(current, -i) for i in range(SELECTABLE_MONTHS)]
    if selected not in months:
        months.append(selected)
    return [MonthOption(f"{m:%Y-%m}", month_label(m, language)) for m in months]
