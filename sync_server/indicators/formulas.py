"""Every indicator formula: pure functions on counts and lists, tested on hand-computed examples.

Percentages are 0–100; a formula with nothing to compute returns None rather than 0, so that
"no answers" is never shown as "0 % satisfied". Waits are in seconds in, minutes out: only served
visits with a measured wait count in wait figures; walk-outs count in the walk-out rate; visits
closed as "unknown outcome" (still waiting at closing time) are counted but in no rate. A visit
belongs to the hour, day and period it arrived in (local time), even if served after midnight.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, NamedTuple, Protocol
from zoneinfo import ZoneInfo

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


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """The 95 % Wilson score interval of the share `successes` / `n`, as (low, high) percentages.

    Unlike p ± z·√(p(1−p)/n), it stays within 0–100 and keeps a width at 0 % and 100 %: 17
    satisfied of 17 gives 81.6–100 %, where the normal approximation gives "100 ± 0"."""
    _check_counts(successes, n)
    if n == 0:
        return None
    p, z2 = successes / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # At 0 % or 100 % one bound is the estimate itself; rounding must not push it past.
    low = 0.0 if successes == 0 else 100 * (centre - half)
    high = 100.0 if successes == n else 100 * (centre + half)
    return low, high


def margin_of_error(interval: tuple[float, float]) -> float:
    """Half the width of an interval, in points: what a "margin of error" can honestly say of
    an interval that need not be symmetric around the estimate."""
    low, high = interval
    return (high - low) / 2


def gap(value: float | None, target: float | None) -> float | None:
    """Points above (positive) or below (negative) the target."""
    return None if value is None or target is None else value - target


def _check_counts(part: int, whole: int) -> None:
    if part < 0 or whole < 0 or part > whole:
        raise ValueError(f"inconsistent counts {part} of {whole}")


class Leveled(Protocol):
    """A count of answers at one smiley level (level None: "no opinion")."""

    level: int | None
    levels: int | None
    count: int


@dataclass(frozen=True)
class SatisfactionCounts:
    answers: int = 0  # every answer to the question, "no opinion" included
    expressed: int = 0
    satisfied: int = 0
    dissatisfied: int = 0


def tally(rows: Iterable[Leveled]) -> SatisfactionCounts:
    """Answers, expressed, satisfied and dissatisfied of counts per level."""
    answers = expressed = satisfied = dissatisfied = 0
    for row in rows:
        answers += row.count
        if row.level is None or row.levels is None:
            continue
        expressed += row.count
        mood = sentiment(row.level, row.levels)
        satisfied += row.count if mood == "satisfied" else 0
        dissatisfied += row.count if mood == "dissatisfied" else 0
    return SatisfactionCounts(answers, expressed, satisfied, dissatisfied)


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
    # What the value, the previous value and the target are in, what the gap is in, and what N
    # counts (`indicators.catalogue`); set with the context, empty on a bare figure.
    unit: str = ""
    gap_unit: str = ""
    n_counts: str = ""
    # A share's 95 % Wilson interval, in %, when shown.
    low: float | None = None
    high: float | None = None


def publishable(value: float | None, n: int, min_n: int) -> Figure:
    """Apply the minimum-N rule: a figure from fewer than `min_n` answers is not shown."""
    if n == 0 or value is None:
        return Figure(value=None, n=n, hidden=True, reason="no_data")
    if n < min_n:
        return Figure(value=None, n=n, hidden=True, reason="below_min_n")
    return Figure(value=value, n=n)


# -- waiting times ------------------------------------------------------------------------------

# Waiting bands for "satisfaction by wait", in minutes: [low, high).
BANDS: tuple[tuple[int, int | None], ...] = ((0, 5), (5, 10), (10, 20), (20, None))
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class VisitFact(NamedTuple):
    """One visit as the figures see it (a tuple: a year of a busy desk is tens of thousands)."""

    arrived_at: datetime  # aware
    outcome: str  # waiting, served, walked_out, unknown (cancelled visits are not passed in)
    wait_seconds: float | None


def served_waits(visits: Iterable[VisitFact]) -> list[float]:
    return [v.wait_seconds for v in visits if v.outcome == "served" and v.wait_seconds is not None]


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60


def mean_minutes(seconds: Sequence[float]) -> float | None:
    return statistics.fmean(seconds) / 60 if seconds else None


def median_minutes(seconds: Sequence[float]) -> float | None:
    return statistics.median(seconds) / 60 if seconds else None


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least `share` % of values at or
    below it (always a wait that really happened). 90th of 1..10 is 9; of 1..5 is 5."""
    if not values:
        return None
    if not 0 < share <= 100:
        raise ValueError("share must be in (0, 100]")
    ordered = sorted(values)
    return ordered[math.ceil(share / 100 * len(ordered)) - 1]


def p90_minutes(seconds: Sequence[float]) -> float | None:
    """The wait 9 visitors out of 10 did not exceed (nearest rank), in minutes."""
    return _minutes(percentile(seconds, 90))


def max_minutes(seconds: Sequence[float]) -> float | None:
    return _minutes(max(seconds, default=None))


def count_within(waits: Sequence[float], threshold_minutes: float) -> int:
    """How many waits (seconds) are at most the service's threshold (minutes)."""
    return sum(w <= threshold_minutes * 60 for w in waits)


def within_threshold(waits: Sequence[float], threshold_minutes: float) -> float | None:
    """% of waits at most the service's threshold (the "délai d'attente" engagement)."""
    if not waits:
        return None
    return 100 * count_within(waits, threshold_minutes) / len(waits)


def walk_out_rate(served: int, walked_out: int) -> float | None:
    """% of visitors with a known outcome who left before being served."""
    total = served + walked_out
    return None if total == 0 else 100 * walked_out / total


def band_label(low: int, high: int | None) -> str:
    return f"{low}_{high}" if high is not None else f"{low}_plus"


def band_of(wait_seconds: float) -> str:
    minutes = wait_seconds / 60
    for low, high in BANDS:
        if minutes >= low and (high is None or minutes < high):
            return band_label(low, high)
    raise ValueError(f"negative wait {wait_seconds}")


def satisfaction_by_band(
    linked: Iterable[tuple[float, int, int]],
) -> dict[str, tuple[int, int]]:
    """(satisfied, expressed) per waiting band, from (wait seconds, level, levels) of answers
    linked to a served visit ("no opinion" not passed in)."""
    counts = {band_label(low, high): (0, 0) for low, high in BANDS}
    for wait, level, levels in linked:
        band = band_of(wait)
        satisfied, expressed = counts[band]
        happy = sentiment(level, levels) == "satisfied"
        counts[band] = (satisfied + happy, expressed + 1)
    return counts


@dataclass(frozen=True)
class Cell:
    """Arrivals of one weekday × local hour, with their mean wait (None below the minimum N)."""

    weekday: str
    hour: int
    arrivals: int
    waits: int
    mean_wait_minutes: float | None


def _by_local_hour(
    visits: Iterable[VisitFact], zone: ZoneInfo
) -> dict[tuple[int, int], list[VisitFact]]:
    cells: dict[tuple[int, int], list[VisitFact]] = {}
    # Every zone's offset is a whole number of quarter hours, so one conversion per quarter hour.
    cell_of_quarter: dict[int, tuple[int, int]] = {}
    for visit in visits:
        quarter = int(visit.arrived_at.timestamp()) // 900
        cell = cell_of_quarter.get(quarter)
        if cell is None:
            local = visit.arrived_at.astimezone(zone)
            cell = cell_of_quarter[quarter] = (local.weekday(), local.hour)
        cells.setdefault(cell, []).append(visit)
    return cells


def by_hour_and_weekday(visits: Iterable[VisitFact], zone: ZoneInfo, min_n: int) -> list[Cell]:
    """Arrivals and mean wait per (weekday, local hour) of arrival, in weekday and hour order.

    The mean wait of a cell is hidden below `min_n` served visits; arrival counts are shown."""
    grid = []
    for (weekday, hour), members in sorted(_by_local_hour(visits, zone).items()):
        waits = served_waits(members)
        mean = publishable(mean_minutes(waits), len(waits), min_n)
        grid.append(Cell(WEEKDAYS[weekday], hour, len(members), len(waits), mean.value))
    return grid


# -- score, participation, data quality, register deadlines ----------------------------------

SCORE_MAX = 10
GOOD_SCORE = 8  # "share of answers ≥ 8 / 10"


def score(level: int, levels: int) -> float:
    """A smiley level mapped evenly onto 0–10: on 4 steps, 0, 3.33, 6.67, 10."""
    if levels < 2 or not 0 <= level < levels:
        raise ValueError(f"level {level} outside a {levels}-level scale")
    return SCORE_MAX * level / (levels - 1)


def score_triples(rows: Iterable[Leveled]) -> list[tuple[int, int, int]]:
    """(level, levels, count) of the expressed rows: what the scores are computed on."""
    return [
        (row.level, row.levels, row.count)
        for row in rows
        if row.level is not None and row.levels is not None
    ]


def mean_score(counts: list[tuple[int, int, int]]) -> float | None:
    """Mean score out of 10 of (level, levels, count) triples; "no opinion" is not passed in."""
    total = sum(count for _level, _levels, count in counts)
    if total == 0:
        return None
    # fsum: the same figure whatever order the database returns the rows in.
    return math.fsum(score(level, levels) * count for level, levels, count in counts) / total


def share_good_scores(counts: list[tuple[int, int, int]]) -> float | None:
    """% of expressed answers scoring at least 8 out of 10."""
    total = sum(count for _level, _levels, count in counts)
    if total == 0:
        return None
    good = sum(count for level, levels, count in counts if score(level, levels) >= GOOD_SCORE)
    return 100 * good / total


def participation_rate(answers: int, visitors: int) -> float | None:
    """Answers / visitors recorded by agents × 100; None when no visitor was recorded.

    Above 100 when the agents did not record every visitor (phone answers from elsewhere,
    visits not recorded): the figure built on it is then hidden with its reason."""
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
    return (
        deadline_outcome(_earliest(acknowledged, closed), acknowledgement_due(received), today),
        deadline_outcome(_earliest(answered, closed), answer_due(received, holidays), today),
    )


def _earliest(*days: date | None) -> date | None:
    return min((day for day in days if day is not None), default=None)


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
