"""The period chosen on a page: `?kind=month&period=2025-03` (or a campaign `from`..`to`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel.dates import format_date

from sync_server import i18n
from sync_server.indicators.periods import KINDS, InvalidPeriod, Period, default_period, parse


@dataclass(frozen=True)
class Choice:
    period: Period
    label: str


def choose(kind: str | None, text: str | None, today: date, language: str) -> Choice:
    """The asked period if valid and not in the future, else the last complete month."""
    kind = kind if kind in KINDS else "month"
    try:
        period = parse(kind, text or "")
        if period.start > today:
            raise InvalidPeriod("future")
    except InvalidPeriod:
        period = default_period(kind, today)  # type: ignore[arg-type]
    return Choice(period, period_label(period, language))


def period_label(period: Period, language: str) -> str:
    locale = i18n.BABEL_LOCALES[language]
    if period.kind == "month":
        label = format_date(period.start, "LLLL yyyy", locale=locale)
        return label[:1].upper() + label[1:]
    if period.kind == "campaign" or period.kind == "week":
        first = format_date(period.start, "d MMM yyyy", locale=locale)
        last = format_date(period.last, "d MMM yyyy", locale=locale)
        return f"{first} – {last}"
    if period.kind == "quarter":
        return (
            f"T{(period.start.month - 1) // 3 + 1} {period.start.year}"
            if language == "fr"
            else (f"Q{(period.start.month - 1) // 3 + 1} {period.start.year}")
        )
    return str(period.start.year)
