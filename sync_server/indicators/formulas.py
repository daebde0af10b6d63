"""Indicator formulas. Pure functions on counts and lists, tested on hand-computed examples.

Percentages are 0–100; a formula with nothing to compute returns None rather than 0, so that
"no answers" is never shown as "0 % satisfied".
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Sentiment = Literal["satisfied", "neutral", "dissatisfied"]

# Below this many answers a margin of error is too rough to trust: the figure carries a warning.
SMALL_SAMPLE = 30
Z_95 = 1.96
NO_HOLIDAYS: frozenset[date] = frozenset()


def sentiment(level: int, levels: int) -> Sentiment:
    """Where a level falls on a smiley scale of `levels` steps (0 = worst).

    The upper half is satisfied, the lower half dissatisfied; on an odd scale the middle step is
    neutral. On the 4-step Qualivilles scale: 0, 1 dissatisfied; 2, 3 satisfied.
    """
    if not 0 <= level < levels:
        raise ValueError(f"level {level} outside a {levels}-level scale")
    if 2 * level >= levels:
        return "satisfied"
    if 2 * level < levels - 1:
        return "dissatisfied"
    return "neutral"


def satisfaction_rate(satisfied: int, expressed: int) -> float | None:
    """(very satisfied + satisfied) / expressed × 100; "no opinion" is not in `expressed`."""
    _check_counts(satisfied, expressed)
    return None if expressed == 0 else 100 * satisfied / expressed


def net_satisfaction(satisfied: int, dissatisfied: int, expressed: int) -> float | None:
    """% satisfied − % dissatisfied, in points (Services Publics+ publishes it this way)."""
    _check_counts(satisfied + dissatisfied, expressed)
    return None if expressed == 0 else 100 * (satisfied - dissatisfied) / expressed


def margin_of_error(rate: float, n: int) -> float | None:
    """95 % margin of error, in points, of a percentage `rate` measured on `n` answers."""
    if n <= 0:
        return None
    p = rate / 100
    return 100 * Z_95 * math.sqrt(p * (1 - p) / n)


def mean_minutes(seconds: list[float]) -> float | None:
    return statistics.fmean(seconds) / 60 if seconds else None


def median_minutes(seconds: list[float]) -> float | None:
    return statistics.median(seconds) / 60 if seconds else None


def gap(value: float | None, target: float | None) -> float | None:
    """Points above (positive) or below (negative) the target."""
    return None if value is None or target is None else value - target


def _check_counts(part: int, whole: int) -> None:
    if part < 0 or whole < 0 or part > whole:
        raise ValueError(f"inconsistent counts {part} of {whole}")


@dataclass(frozen=True)
class Figure:
    """One published number with its N; hidden (value None) when N is below the minimum."""

    value: float | None
    n: int
    hidden: bool = False
    reason: str | None = None  # why hidden: "no_data" or "below_min_n"
    previous: float | None = None
    target: float | None = None
    gap: float | None = None
    warning: str | None = None  # shown but to be read with care: "small_sample"


def publishable(value: float | None, n: int, min_n: int) -> Figure:
    """Apply the minimum-N rule: a figure from fewer than `min_n` answers is not shown."""
    if n == 0 or value is None:
        return Figure(value=None, n=n, hidden=True, reason="no_data")
    if n < min_n:
        return Figure(value=None, n=n, hidden=True, reason="below_min_n")
    return Figure(value=value, n=n)


# -- score, participation, data quality, register deadlines ----------------------------------

SCORE_MAX = 10
GOOD_SCORE = 8  # "share of answers ≥ 8 / 10"


def score(level: int, levels: int) -> float:
    """A smiley level mapped evenly onto 0–10: on 4 steps, 0, 3.33, 6.67, 10."""
    if levels < 2 or not 0 <= level < levels:
        raise ValueError(f"level {level} outside a {levels}-level scale")
    return SCORE_MAX * level / (levels - 1)


def mean_score(counts: list[tuple[int, int, int]]) -> float | None:
    """Mean score out of 10 of (level, levels, count) triples; "no opinion" is not passed in."""
    total = sum(count for _level, _levels, count in counts)
    if total == 0:
        return None
    return sum(score(level, levels) * count for level, levels, count in counts) / total


def share_good_scores(counts: list[tuple[int, int, int]]) -> float | None:
    """% of expressed answers scoring at least 8 out of 10."""
    total = sum(count for _level, _levels, count in counts)
    if total == 0:
        return None
    good = sum(count for level, levels, count in counts if score(level, levels) >= GOOD_SCORE)
    return 100 * good / total


def participation_rate(answers: int, visitors: int) -> float | None:
    """Answers / visitors recorded by agents × 100; None when no visitor was recorded.

    It can exceed 100 (phone answers, desks where not every visit is recorded): shown as is."""
    if answers < 0 or visitors < 0:
        raise ValueError("counts cannot be negative")
    return None if visitors == 0 else 100 * answers / visitors


def share(part: int, whole: int) -> float | None:
    """part / whole × 100, None when whole is 0."""
    _check_counts(part, whole)
    return None if whole == 0 else 100 * part / whole


def is_working_day(day: date, holidays: Container[date] = NO_HOLIDAYS) -> bool:
    """Monday to Friday and not a public holiday."""
    return day.weekday() < 5 and day not in holidays


def working_days_between(start: date, end: date, holidays: Container[date] = NO_HOLIDAYS) -> int:
    """Working days after `start` up to and including `end` (0 when end ≤ start)."""
    if end <= start:
        return 0
    return sum(
        is_working_day(start + timedelta(days=offset), holidays)
        for offset in range(1, (end - start).days + 1)
    )


def add_working_days(start: date, count: int, holidays: Container[date] = NO_HOLIDAYS) -> date:
    """The `count`-th working day after `start` (`start` itself when count is 0)."""
    if count < 0:
        raise ValueError("count cannot be negative")
    day = start
    while count:
        day += timedelta(days=1)
        count -= is_working_day(day, holidays)
    return day


ACKNOWLEDGE_WITHIN_DAYS = 7
ANSWER_WITHIN_WORKING_DAYS = 15


def acknowledgement_due(received: date) -> date:
    """The last day an acknowledgement is on time: 7 calendar days after receipt."""
    return received + timedelta(days=ACKNOWLEDGE_WITHIN_DAYS)


def answer_due(received: date, holidays: Container[date] = NO_HOLIDAYS) -> date:
    """The last day an answer is on time: the 15th working day after receipt."""
    return add_working_days(received, ANSWER_WITHIN_WORKING_DAYS, holidays)


def acknowledgement_overdue(received: date, acknowledged: date | None, today: date) -> bool:
    """Not acknowledged within 7 calendar days of receipt (late acknowledgements stay late)."""
    return (acknowledged or today) > acknowledgement_due(received)


def answer_overdue(
    received: date,
    answered: date | None,
    today: date,
    holidays: Container[date] = NO_HOLIDAYS,
) -> bool:
    """Not answered within 15 working days of receipt (weekends and `holidays` skipped)."""
    return (answered or today) > answer_due(received, holidays)


DeadlineOutcome = Literal["on_time", "late", "pending"]


def deadline_outcome(done: date | None, due: date, today: date) -> DeadlineOutcome:
    """A register step against its due day: done by then, done or still open after it, or
    still open with time left ("pending": not yet counted either way)."""
    if done is not None:
        return "on_time" if done <= due else "late"
    return "late" if today > due else "pending"


def register_outcomes(
    received: date,
    acknowledged: date | None,
    answered: date | None,
    closed: date | None,
    today: date,
    holidays: Container[date] = NO_HOLIDAYS,
) -> tuple[DeadlineOutcome, DeadlineOutcome]:
    """(acknowledgement, answer) of one register entry against their deadlines.

    Closing an entry handles both steps on that day: an anonymous comment has nobody to reply to.
    """

    def first(*days: date | None) -> date | None:
        return min((day for day in days if day is not None), default=None)

    return (
        deadline_outcome(first(acknowledged, closed), acknowledgement_due(received), today),
        deadline_outcome(first(answered, closed), answer_due(received, holidays), today),
    )


def share_on_time(outcomes: Iterable[DeadlineOutcome]) -> tuple[float | None, int]:
    """(% on time, N) over the decided outcomes; pending ones are in neither."""
    decided = [outcome for outcome in outcomes if outcome != "pending"]
    return share(decided.count("on_time"), len(decided)), len(decided)


def status_against(value: float | None, target: float | None, higher_is_better: bool) -> str:
    """ "above" (target met), "below", or "none" when either side is missing."""
    if value is None or target is None:
        return "none"
    met = value >= target if higher_is_better else value <= target
    return "above" if met else "below"
