"""Every figure the computation gives: its unit, the unit of its gap to a target, what its N
counts, and which way is better. Each figure carries these with its value, so the JSON API, the
exports, the pages and the PDFs say the same thing of it.

Units: "%" (a share, 0–100), "pts" (percentage points), "/10" (a score out of 10), "min"
(minutes of a measured wait), "count" (a number of answers or visits). The gap to a target of a
share is in points; of anything else, in the figure's own unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Unit = Literal["%", "pts", "/10", "min", "count"]
# What N counts, as the API names it: every figure's N is one of these.
Counted = Literal[
    "answers",  # answers to the main question, "no opinion" included
    "expressed_answers",  # answers to the question with an opinion ("no opinion" excluded)
    "visits",  # visits recorded by the agents
    "served_waits",  # served visits with a measured wait
    "known_outcomes",  # visits served or walked out
    "linked_answers",  # expressed answers linked to a measured wait in that band
    "visitors",  # visitors recorded by the agents (a visit taken back is none)
    "decided_entries",  # register entries whose deadline has passed or was met
]
QUESTION_PREFIX = "question:"
BAND_PREFIX = "satisfaction_rate_wait_"


@dataclass(frozen=True)
class Measure:
    unit: Unit
    counted: Counted
    higher_is_better: bool | None = True  # None: a count, neither good nor bad

    @property
    def gap_unit(self) -> Unit:
        return "pts" if self.unit == "%" else self.unit


_SHARE = Measure("%", "expressed_answers")
_WAIT = Measure("min", "served_waits", higher_is_better=False)
MEASURES: dict[str, Measure] = {
    "answers": Measure("count", "answers", None),
    "expressed_answers": Measure("count", "expressed_answers", None),
    "satisfaction_rate": _SHARE,
    "question_rate": _SHARE,
    "net_satisfaction": Measure("pts", "expressed_answers"),
    "margin_of_error": Measure("pts", "expressed_answers", None),
    "mean_wait_minutes": _WAIT,
    "median_wait_minutes": _WAIT,
    "visits": Measure("count", "visits", None),
    "unknown_outcomes": Measure("count", "visits", None),
    "p90_wait_minutes": _WAIT,
    "max_wait_minutes": _WAIT,
    "wait_threshold_minutes": Measure("min", "served_waits", None),
    "within_threshold_rate": Measure("%", "served_waits"),
    "walk_out_rate": Measure("%", "known_outcomes", higher_is_better=False),
    "score": Measure("/10", "expressed_answers"),
    "good_score_share": _SHARE,
    "participation_rate": Measure("%", "visitors"),
    "acknowledged_on_time": Measure("%", "decided_entries"),
    "answered_on_time": Measure("%", "decided_entries"),
}
_BAND = Measure("%", "linked_answers")


def measure(key: str) -> Measure:
    """The measure of a figure key, a question's rate ("question:welcome") and a waiting band's
    satisfaction ("satisfaction_rate_wait_0_5") included."""
    if key.startswith(QUESTION_PREFIX):
        return MEASURES["question_rate"]
    if key.startswith(BAND_PREFIX):
        return _BAND
    return MEASURES[key]
