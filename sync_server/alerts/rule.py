"""The unhappy-answers alert rule: pure functions, no database, no network.

Per desk (site × service), over the window [start, end) of `rule.window` ending at the check:
an alert is due when at least `rule.min_answers` answers were expressed on the main question and
the unhappy ones make up at least `rule.threshold_percent` of them. "Unhappy" is the lower half
of the smiley scale as the dashboard counts "dissatisfied" (`formulas.sentiment`: the two lowest
of the Qualivilles scale's four levels); "no opinion" is not expressed and suspect presses are
not counted at all (storage leaves them out).

One alert per desk per window: once a desk has been alerted for a window, the next alert needs a
window that starts at or after the end of that one, so no answer is ever reported twice and a
desk that stays bad gets at most one message per window length.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sync_server.indicators.formulas import sentiment

Desk = tuple[str, str]  # (site, service)


@dataclass(frozen=True)
class AlertRule:
    window: timedelta
    min_answers: int
    threshold_percent: float

    def __post_init__(self) -> None:
        if self.window <= timedelta(0):
            raise ValueError("the alert window must be positive")
        if self.min_answers < 1:
            raise ValueError("an alert needs at least one answer")
        if not 0 < self.threshold_percent <= 100:
            raise ValueError("the alert threshold is a percentage in (0, 100]")


@dataclass(frozen=True)
class DeskCount:
    """Answers of one desk in a window: expressed on the main question, and unhappy among them."""

    expressed: int
    unhappy: int

    def __post_init__(self) -> None:
        if not 0 <= self.unhappy <= self.expressed:
            raise ValueError(f"unhappy {self.unhappy} outside 0..{self.expressed}")


@dataclass(frozen=True)
class Alert:
    site: str
    service: str
    window_start: datetime
    window_end: datetime
    expressed: int
    unhappy: int

    @property
    def share_percent(self) -> float:
        return 100 * self.unhappy / self.expressed


def is_unhappy(level: int, levels: int) -> bool:
    """The lower half of the scale (on an odd scale the middle step is neutral, not unhappy)."""
    return sentiment(level, levels) == "dissatisfied"


def tally(levels: Iterable[tuple[Desk, int | None, int | None, int]]) -> dict[Desk, DeskCount]:
    """Per desk, from (desk, level, levels, count) rows: expressed and unhappy answers.

    A row with no level is "no opinion" and is not expressed."""
    expressed: dict[Desk, int] = {}
    unhappy: dict[Desk, int] = {}
    for desk, level, scale, count in levels:
        if level is None or scale is None:
            continue
        expressed[desk] = expressed.get(desk, 0) + count
        unhappy[desk] = unhappy.get(desk, 0) + (count if is_unhappy(level, scale) else 0)
    return {desk: DeskCount(expressed[desk], unhappy[desk]) for desk in expressed}


def breaches(count: DeskCount, rule: AlertRule) -> bool:
    """Enough answers, and the unhappy share at or above the threshold."""
    if count.expressed < rule.min_answers:
        return False
    # 100·u ≥ t·n rather than u/n ≥ t/100: 2 of 5 is exactly 40 %, not a rounding away from it.
    return 100 * count.unhappy >= rule.threshold_percent * count.expressed


def window_at(now: datetime, rule: AlertRule) -> tuple[datetime, datetime]:
    """The window a check at `now` looks at: [now − window, now)."""
    return now - rule.window, now


def due_alerts(
    counts: Mapping[Desk, DeskCount],
    rule: AlertRule,
    now: datetime,
    last_window_end: Mapping[Desk, datetime],
) -> list[Alert]:
    """The alerts a check at `now` sends, given each desk's counts in the window and the end of
    the last window it was alerted for (absent: never)."""
    start, end = window_at(now, rule)
    alerts = []
    for (site, service), count in sorted(counts.items()):
        previous = last_window_end.get((site, service))
        if previous is not None and start < previous:
            continue  # this window still overlaps the one already reported
        if breaches(count, rule):
            alerts.append(Alert(site, service, start, end, count.expressed, count.unhappy))
    return alerts
