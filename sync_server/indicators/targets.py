"""What each indicator aims at: which take a target, and the targets in force on a day (the
direction and unit of every figure are in `catalogue`).

A target is the service's own, else the town-wide one, else the indicator's default (the
settings' satisfaction target for the satisfaction rates, none for the others).
"""

from __future__ import annotations

from dataclasses import dataclass

from sync_server.indicators import catalogue, formulas


@dataclass(frozen=True)
class Indicator:
    key: str
    default_target: float | None = None

    @property
    def unit(self) -> str:
        return catalogue.measure(self.key).unit

    @property
    def higher_is_better(self) -> bool:
        return catalogue.measure(self.key).higher_is_better is not False


# The indicators that can carry a target, in the order the pages list them.
INDICATORS: dict[str, Indicator] = {
    key: Indicator(key)
    for key in (
        "satisfaction_rate",
        "question_rate",
        "net_satisfaction",
        "score",
        "good_score_share",
        "participation_rate",
        "mean_wait_minutes",
        "median_wait_minutes",
        # The "délai d'attente" engagement and its neighbours, from the agents' visits.
        "within_threshold_rate",
        "p90_wait_minutes",
        "walk_out_rate",
        "acknowledged_on_time",
        "answered_on_time",
    )
}
SATISFACTION_INDICATORS = ("satisfaction_rate", "question_rate")
# The key figures of the waiting section, in the order the pages list them.
WAIT_KEYS = (
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
    key for key, spec in catalogue.MEASURES.items() if spec.higher_is_better is False
)


def status(figure: formulas.Figure, key: str) -> str:
    """ "above" (target met), "below", or "none" (hidden, or no target), the right way round."""
    value = None if figure.hidden else figure.value
    return formulas.status_against(value, figure.target, key not in LOWER_IS_BETTER)


@dataclass(frozen=True)
class Targets:
    """Targets in force on one day: a service's own, else the town-wide one, else the default."""

    rows: dict[tuple[str, str | None], float]
    default_satisfaction: float

    def get(self, indicator: str, service: str) -> float | None:
        for key in ((indicator, service), (indicator, None)):
            if key in self.rows:
                return self.rows[key]
        if indicator in SATISFACTION_INDICATORS:
            return self.default_satisfaction
        return INDICATORS[indicator].default_target if indicator in INDICATORS else None
