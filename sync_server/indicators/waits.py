"""Waiting-time indicators from the visits agents record. Pure functions, hand-checked in tests.

Waits are in seconds in, minutes out. Only served visits with a measured wait count in wait
figures; walk-outs count in the walk-out rate; visits closed as "unknown outcome" (still waiting
at closing time) are counted but in no rate. A visit belongs to the hour, day and month it
arrived in (Europe/Paris), even if it was served after midnight.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sync_server.indicators import formulas
from sync_server.indicators.formulas import Figure

# Waiting bands for "satisfaction by wait", in minutes: [low, high).
BANDS: tuple[tuple[int, int | None], ...] = ((0, 5), (5, 10), (10, 20), (20, None))
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class VisitFact(NamedTuple):
    """One visit as the figures see it (a tuple: a year of a busy desk is tens of thousands)."""

    arrived_at: datetime  # aware
    outcome: str  # waiting, served, walked_out, unknown (cancelled visits are not passed in)
    wait_seconds: float | None


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least `share` % of values at or
    below it (always a wait that really happened). 90th of 1..10 is 9; of 1..5 is 5."""
    if not values:
        return None
    if not 0 < share <= 100:
        raise ValueError("share must be in (0, 100]")
    ordered = sorted(values)
    return ordered[math.ceil(share / 100 * len(ordered)) - 1]


def served_waits(visits: Iterable[VisitFact]) -> list[float]:
    return [v.wait_seconds for v in visits if v.outcome == "served" and v.wait_seconds is not None]


def within_threshold(waits: Sequence[float], threshold_minutes: float) -> float | None:
    """% of waits at most the service's threshold (the "délai d'attente" engagement)."""
    if not waits:
        return None
    return 100 * sum(w <= threshold_minutes * 60 for w in waits) / len(waits)


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
        happy = formulas.sentiment(level, levels) == "satisfied"
        counts[band] = (satisfied + happy, expressed + 1)
    return counts


def by_hour_and_weekday(
    visits: Iterable[VisitFact], zone: ZoneInfo, min_n: int
) -> list[dict[str, object]]:
    """Arrivals and mean wait per (weekday, local hour) of arrival, busiest cells visible.

    The mean wait of a cell is hidden below `min_n` served visits; arrival counts are shown."""
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
    grid = []
    for (weekday, hour), members in sorted(cells.items()):
        waits = served_waits(members)
        mean = formulas.publishable(formulas.mean_minutes(waits), len(waits), min_n)
        grid.append(
            {
                "weekday": WEEKDAYS[weekday],
                "hour": hour,
                "arrivals": len(members),
                "mean_wait_minutes": mean.value,
                "waits": len(waits),
            }
        )
    return grid


def wait_figures(
    visits: Sequence[VisitFact],
    threshold_minutes: float,
    min_n: int,
    linked: Sequence[tuple[float, int, int]] = (),
) -> dict[str, Figure]:
    """Every waiting figure of one desk and period, the minimum-N rule applied to each."""
    waits = served_waits(visits)
    n = len(waits)
    served = sum(v.outcome == "served" for v in visits)
    walked = sum(v.outcome == "walked_out" for v in visits)

    def minutes(value: float | None) -> float | None:
        return None if value is None else value / 60

    figures = {
        "visits": Figure(value=len(visits), n=len(visits)),
        "unknown_outcomes": Figure(
            value=sum(v.outcome == "unknown" for v in visits), n=len(visits)
        ),
        "p90_wait_minutes": formulas.publishable(minutes(percentile(waits, 90)), n, min_n),
        "max_wait_minutes": formulas.publishable(minutes(max(waits, default=None)), n, min_n),
        # The threshold travels with the share, so a reader knows what "within" means.
        "wait_threshold_minutes": Figure(value=threshold_minutes, n=n),
        "within_threshold_rate": formulas.publishable(
            within_threshold(waits, threshold_minutes), n, min_n
        ),
        "walk_out_rate": formulas.publishable(
            walk_out_rate(served, walked), served + walked, min_n
        ),
    }
    for band, (satisfied, expressed) in satisfaction_by_band(linked).items():
        figures[f"satisfaction_rate_wait_{band}"] = formulas.publishable(
            formulas.satisfaction_rate(satisfied, expressed), expressed, min_n
        )
    return figures
