"""The waiting-time figures of each desk for one period, as the service page and the PDF reports
show them: the formulas of `waits` applied to what storage returns, the minimum-N rule on each.

Mean and median are the formulas `monthly.figures_for` uses on the same served visits, so they
read the same here as in the desk's figures table, the API and the exports. Each figure carries
the previous period's value and the target in force on the period's first day (if any).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sync_server.indicators import formulas, periodic, waits
from sync_server.indicators.formulas import Figure
from sync_server.indicators.periods import Period
from sync_server.indicators.waits import VisitFact
from sync_server.storage import Storage

DeskKey = tuple[str, str]  # (site, service)
Linked = list[tuple[float, int, int]]  # (wait seconds, level, levels) of linked answers
# The key figures, in the order the pages list them.
KEYS = (
    "visits",
    "mean_wait_minutes",
    "median_wait_minutes",
    "p90_wait_minutes",
    "max_wait_minutes",
    "within_threshold_rate",
    "walk_out_rate",
    "unknown_outcomes",
)
LOWER_IS_BETTER = frozenset(
    {"mean_wait_minutes", "median_wait_minutes", "p90_wait_minutes", "max_wait_minutes",
     "walk_out_rate"}
)  # fmt: skip
# A town hall is open on weekdays: they always have a row in the heatmap, the weekend only
# when someone arrived then.
WORKING_DAYS = waits.WEEKDAYS[:5]


@dataclass(frozen=True)
class Cell:
    """Arrivals of one weekday × local hour, with their mean wait (None below the minimum N)."""

    weekday: str
    hour: int
    arrivals: int
    waits: int
    mean_wait_minutes: float | None


@dataclass(frozen=True)
class Band:
    """Satisfaction of the answers linked to a measured wait in [low, high) minutes."""

    key: str
    low: int
    high: int | None
    satisfied: int | None  # None when the rate is hidden: the count would tell it
    rate: Figure


@dataclass(frozen=True)
class DeskWaits:
    site: str
    site_name: str
    service: str
    service_name: str
    period: str
    threshold_minutes: float
    has_tablet: bool  # an enrolled, not revoked agent tablet at the desk today
    figures: dict[str, Figure] = field(default_factory=dict)
    cells: list[Cell] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)

    @property
    def measured(self) -> bool:
        """At least one visit recorded by an agent in the period."""
        return bool(self.figures["visits"].value)

    @property
    def linked_answers(self) -> int:
        return sum(band.rate.n for band in self.bands)

    def status(self, key: str) -> str:
        figure = self.figures[key]
        value = None if figure.hidden else figure.value
        return formulas.status_against(value, figure.target, key not in LOWER_IS_BETTER)


def figures_of(
    visits: Sequence[VisitFact],
    linked: Sequence[tuple[float, int, int]],
    threshold_minutes: float,
    min_n: int,
) -> dict[str, Figure]:
    """`waits.wait_figures` plus the mean and median wait, the minimum-N rule on each."""
    served = waits.served_waits(visits)
    figures = waits.wait_figures(visits, threshold_minutes, min_n, linked)
    figures["mean_wait_minutes"] = formulas.publishable(
        formulas.mean_minutes(served), len(served), min_n
    )
    figures["median_wait_minutes"] = formulas.publishable(
        formulas.median_minutes(served), len(served), min_n
    )
    return figures


def bands_of(linked: Sequence[tuple[float, int, int]], figures: dict[str, Figure]) -> list[Band]:
    """The waiting bands in order, with their counts and the published rate of `figures`."""
    counts = waits.satisfaction_by_band(linked)
    result = []
    for low, high in waits.BANDS:
        key = waits.band_label(low, high)
        rate = figures[f"satisfaction_rate_wait_{key}"]
        result.append(Band(key, low, high, None if rate.hidden else counts[key][0], rate))
    return result


def cells_of(visits: Sequence[VisitFact], zone: ZoneInfo, min_n: int) -> list[Cell]:
    return [
        Cell(
            weekday=str(row["weekday"]),
            hour=int(row["hour"]),  # type: ignore[call-overload]
            arrivals=int(row["arrivals"]),  # type: ignore[call-overload]
            waits=int(row["waits"]),  # type: ignore[call-overload]
            mean_wait_minutes=row["mean_wait_minutes"],  # type: ignore[arg-type]
        )
        for row in waits.by_hour_and_weekday(visits, zone, min_n)
    ]


def heat_grid(cells: Sequence[Cell]) -> tuple[list[str], list[int], list[list[Cell | None]]]:
    """(weekdays, hours, rows of cells) for a heatmap: Monday to Friday and any weekend day with
    arrivals; every hour from the first to the last with arrivals; None where nobody came."""
    if not cells:
        return [], [], []
    seen = {cell.weekday for cell in cells}
    days = [d for d in waits.WEEKDAYS if d in WORKING_DAYS or d in seen]
    hours = list(range(min(c.hour for c in cells), max(c.hour for c in cells) + 1))
    at = {(cell.weekday, cell.hour): cell for cell in cells}
    return days, hours, [[at.get((day, hour)) for hour in hours] for day in days]


def with_context(
    figures: dict[str, Figure], previous: dict[str, Figure], targets: dict[str, float | None]
) -> dict[str, Figure]:
    """Each key figure with the previous period's shown value, its target and the gap."""
    result = dict(figures)
    for key in KEYS:
        figure, before = figures[key], previous[key]
        target = targets.get(key)
        value = None if figure.hidden else figure.value
        result[key] = dataclasses.replace(
            figure,
            previous=None if before.hidden else before.value,
            target=target,
            gap=formulas.gap(value, target),
        )
    return result


def compute(
    storage: Storage,
    period: Period,
    *,
    min_answers: int,
    default_target: float,
    timezone: str = "Europe/Paris",
    sites: list[str] | None = None,
    services: list[str] | None = None,
) -> list[DeskWaits]:
    """The waiting figures of every desk (optionally filtered) for `period`."""
    zone = ZoneInfo(timezone)
    desks = storage.desks(sites=sites, services=services)
    targets = periodic.Targets(storage.targets_on(period.start), default_target)
    tablets = {
        (device.site, device.service)
        for device in storage.devices()
        if device.mode == "tablet" and device.enrolled_at is not None and not device.revoked
    }

    def read(p: Period) -> tuple[dict[DeskKey, list[VisitFact]], dict[DeskKey, Linked]]:
        start, end = p.bounds(zone)
        facts = storage.visit_facts(start, end, sites=sites, services=services)
        linked = storage.linked_waits(start, end, sites=sites, services=services)
        return {key: [VisitFact(*row) for row in rows] for key, rows in facts.items()}, linked

    facts_now, linked_now = read(period)
    facts_before, linked_before = read(period.previous())
    result = []
    for desk in desks:
        key = (desk.site.slug, desk.service.slug)
        threshold = desk.service.wait_threshold_minutes
        visits = facts_now.get(key, [])
        linked = linked_now.get(key, [])
        figures = figures_of(visits, linked, threshold, min_answers)
        previous = figures_of(
            facts_before.get(key, []), linked_before.get(key, []), threshold, min_answers
        )
        wanted = {name: targets.get(name, desk.service.slug) for name in KEYS}
        result.append(
            DeskWaits(
                site=desk.site.slug,
                site_name=desk.site.name,
                service=desk.service.slug,
                service_name=desk.service.name,
                period=period.key,
                threshold_minutes=threshold,
                has_tablet=key in tablets,
                figures=with_context(figures, previous, wanted),
                cells=cells_of(visits, zone, min_answers),
                bands=bands_of(linked, figures),
            )
        )
    return result


def below_target(desks: list[DeskWaits]) -> list[tuple[DeskWaits, str, Figure]]:
    """(desk, key, figure) for every shown waiting figure that misses its target."""
    found = []
    for desk in desks:
        for key in KEYS:
            figure = desk.figures.get(key)
            if figure is None or figure.hidden or figure.target is None:
                continue
            met = formulas.status_against(figure.value, figure.target, key not in LOWER_IS_BETTER)
            if met == "below":
                found.append((desk, key, figure))
    return found
