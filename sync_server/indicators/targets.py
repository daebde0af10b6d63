"""What each indicator aims at: its direction, its unit, and the targets in force on a day.

A target is the service's own, else the town-wide one, else the indicator's default (the
settings' satisfaction target for the satisfaction rates, none for the others).
"""

from __future__ import annotations

from dataclasses import dataclass

from sync_server.indicators import formulas


@dataclass(frozen=True)
class Indicator:
    key: str
    higher_is_better: bool = True
    unit: str = "%"  # "%", "pts", "/10", "min"
    default_target: float | None = None


# The indicators that can carry a target, in the order the pages list them.
INDICATORS: dict[str, Indicator] = {
    spec.key: spec
    for spec in (
        Indicator("satisfaction_rate"),
        Indicator("question_rate"),
        Indicator("net_satisfaction", unit="pts"),
        Indicator("score", unit="/10"),
        Indicator("good_score_share"),
        Indicator("participation_rate"),
        Indicator("mean_wait_minutes", higher_is_better=False, unit="min"),
        Indicator("median_wait_minutes", higher_is_better=False, unit="min"),
        # The "délai d'attente" engagement and its neighbours, from the agents' visits.
        Indicator("within_threshold_rate"),
        Indicator("p90_wait_minutes", higher_is_better=False, unit="min"),
        Indicator("walk_out_rate", higher_is_better=False),
        Indicator("acknowledged_on_time"),
        Indicator("answered_on_time"),
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
    {key for key, spec in INDICATORS.items() if not spec.higher_is_better} | {"max_wait_minutes"}
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
