"""Whether an improvement action worked, from the data: the indicator it targets over the months
before its completion against the months after, under the minimum-N rule. Pure.

A service with several desks (three médiathèques) is read as one: a share is the sum of its
parts over the sum of the desks' N, a mean the sum of the values over the sum of N — never the
mean of the desks' figures. Medians and percentiles cannot be added up that way: they are read
at one desk only.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from sync_server.indicators import formulas
from sync_server.indicators.formulas import Figure
from sync_server.indicators.periods import Period

DEFAULT_MONTHS = 3
# Figures whose value times N is a sum over the answers or visits (a share, a mean).
POOLABLE = frozenset(
    {
        "satisfaction_rate",
        "question_rate",
        "net_satisfaction",
        "score",
        "good_score_share",
        "participation_rate",
        "mean_wait_minutes",
        "within_threshold_rate",
        "walk_out_rate",
        "acknowledged_on_time",
        "answered_on_time",
    }
)
State = Literal["not_done", "measuring", "measured"]


def poolable(indicator: str) -> bool:
    return indicator in POOLABLE or indicator.startswith("question:")


def pool(figures: Sequence[Figure], min_n: int) -> Figure:
    """Several desks' figures of one share or mean as one figure: Σ(value × N) / Σ N, then the
    minimum-N rule on Σ N. The figures are the raw ones (computed with no minimum), so a desk
    under the minimum still counts; a desk with N but no value makes the whole unknown."""
    total = sum(figure.n for figure in figures)
    counted = [figure for figure in figures if figure.n > 0]
    if any(figure.value is None for figure in counted):
        return Figure(value=None, n=total, hidden=True, reason="no_data")
    weighted = sum((figure.value or 0.0) * figure.n for figure in counted)
    return formulas.publishable(weighted / total if total else None, total, min_n)


def shift_months(day: date, count: int) -> date:
    """The same day `count` months later (earlier), the month's last day when it is shorter."""
    index = day.year * 12 + day.month - 1 + count
    year, month = index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Windows:
    """The months before the completion day, and those from it (up to today while they run)."""

    before: Period
    after: Period
    complete: bool  # the after-window is over


def windows(done: date, today: date, months: int = DEFAULT_MONTHS) -> Windows:
    """[done − months, done) and [done, done + months), the second cut at today (included)
    while it is not over."""
    before = Period("campaign", shift_months(done, -months), done)
    full_end = shift_months(done, months)
    complete = today >= full_end
    end = full_end if complete else max(today + timedelta(days=1), done + timedelta(days=1))
    return Windows(before, Period("campaign", done, end), complete)
