"""The period chosen on a page: `?kind=month&period=2025-03`, or a survey campaign given as
`?kind=campaign&from=2025-03-01&to=2025-03-31` (two date fields) or `period=2025-03-01..2025-03-31`.

Pages share one picker: `picker()` gives what the `period_picker` macro of `_macros.html` shows,
and a rejected input comes back as a `problem` the page states, with the default period shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_date

from sync_server import i18n
from sync_server.indicators.periods import (
    KINDS,
    MAX_CAMPAIGN_DAYS,
    InvalidPeriod,
    Kind,
    Period,
    containing,
    default_period,
    parse,
)

# What the picker suggests for each kind (most recent first); any other period can be typed.
SUGGESTED = {"week": 8, "month": 13, "quarter": 8, "year": 4}


@dataclass(frozen=True)
class Problem:
    """Why the asked period was not used: a code the page words, and what was asked."""

    code: str  # unknown_kind, bad_period, future, or one of CAMPAIGN_PROBLEMS
    asked: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Choice:
    period: Period
    label: str
    problem: Problem | None = None

    @property
    def query(self) -> str:
        """`kind=…&period=…` naming this period in a link (exports, service pages)."""
        return urlencode({"kind": self.period.kind, "period": self.period.key})


CAMPAIGN_PROBLEMS = ("missing_date", "bad_date", "end_before_start", "too_long")


def _campaign_text(first: str | None, last: str | None) -> str:
    """`first..last` from two date fields; InvalidPeriod with the problem's code otherwise."""
    if not first or not last:
        raise InvalidPeriod("missing_date")
    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        raise InvalidPeriod("bad_date") from None
    if end < start:
        raise InvalidPeriod("end_before_start")
    if (end - start).days >= MAX_CAMPAIGN_DAYS:
        raise InvalidPeriod("too_long")
    return f"{start.isoformat()}..{end.isoformat()}"


def _of_kind(kind: Kind, text: str) -> Period:
    """The period of `kind` named by `text`, or the one holding the start of the period `text`
    names in another kind: switching the picker from 2025-03 to "quarter" shows 2025-Q1."""
    try:
        return parse(kind, text)
    except InvalidPeriod:
        for other in KINDS:
            if other not in (kind, "campaign"):
                try:
                    return containing(kind, parse(other, text).start)
                except InvalidPeriod:
                    continue
        raise


def choose(
    kind: str | None,
    text: str | None,
    today: date,
    language: str,
    *,
    first: str | None = None,
    last: str | None = None,
) -> Choice:
    """The asked period if valid and not in the future, else the default period of that kind
    (the last complete one; a month when the kind is unknown) with the problem.

    Nothing asked is no problem: the page opens on the default. A campaign's `first` and `last`
    (ISO dates from two date fields) win over `text` when either is given."""
    asked = {"kind": kind, "period": text, "from": first, "to": last}
    asked = {name: value for name, value in asked.items() if value}
    if kind is not None and kind not in KINDS:
        period = default_period("month", today)
        return Choice(period, period_label(period, language), Problem("unknown_kind", asked))
    chosen: Kind = kind or "month"  # type: ignore[assignment]
    period, problem = default_period(chosen, today), None
    try:
        if chosen == "campaign" and (first or last or ".." in (text or "")):
            if not (first or last):
                first, _, last = (text or "").partition("..")
            period = parse("campaign", _campaign_text(first, last))
        elif text:
            period = _of_kind(chosen, text)
        if period.start > today:
            raise InvalidPeriod("future")
    except InvalidPeriod as error:
        code = str(error) if str(error) in (*CAMPAIGN_PROBLEMS, "future") else "bad_period"
        period, problem = default_period(chosen, today), Problem(code, asked)
    return Choice(period, period_label(period, language), problem)


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


@dataclass(frozen=True)
class Suggestion:
    value: str
    label: str


def suggestions(today: date, language: str) -> list[Suggestion]:
    """Recent periods of each kind, the one in progress first, for the picker's list."""
    found = []
    for kind, count in SUGGESTED.items():
        period = containing(kind, today)  # type: ignore[arg-type]
        for _ in range(count):
            found.append(Suggestion(period.key, period_label(period, language)))
            period = period.previous()
    return found


def picker(
    choice: Choice, today: date, language: str, kinds: tuple[str, ...] = KINDS
) -> dict[str, Any]:
    """What the `period_picker` macro needs. The campaign's date fields start on the period
    shown, so that turning a month into a campaign only means moving a date."""
    return {
        "choice": choice,
        "kinds": kinds,
        "first": choice.period.start.isoformat(),
        "last": choice.period.last.isoformat(),
        "suggestions": suggestions(today, language),
        "problem": choice.problem,
    }


def period_in_words(period: Period, language: str) -> str:
    """A period as a poster says it: "Novembre 2026", "Janvier – mars 2026", "2026"."""
    locale = i18n.BABEL_LOCALES[language]
    if period.kind == "quarter":
        first = format_date(period.start, "LLLL", locale=locale)
        last = format_date(period.last, "LLLL yyyy", locale=locale)
        return f"{first[:1].upper()}{first[1:]} – {last}"
    return period_label(period, language)
