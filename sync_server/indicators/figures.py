"""One desk's figures for one period, from its facts: the minimum-N rule applied to each, then
the previous period's shown value, the target in force and the gap. Pure.

The figures of a desk, in the order the JSON API and the exports list them: the satisfaction
figures, the waits, the agents' visits, then the details (score, participation, register).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sync_server.indicators import catalogue, formulas, targets
from sync_server.indicators.facts import DeskFacts, Linked, Outcomes
from sync_server.indicators.formulas import Cell, Figure, SatisfactionCounts, VisitFact

# A town hall is open on weekdays: they always have a row in the heatmap, the weekend only
# when someone arrived then.
WORKING_DAYS = formulas.WEEKDAYS[:5]


def rate_figure(value: float | None, part: int, whole: int, min_n: int) -> Figure:
    """A share (`value`, from `part` of `whole`) under the minimum-N rule, with its 95 % Wilson
    interval when shown."""
    rate = formulas.publishable(value, whole, min_n)
    if rate.hidden:
        return rate
    low, high = formulas.wilson_interval(part, whole) or (None, None)
    return dataclasses.replace(rate, low=low, high=high)


def satisfaction_figures(counts: SatisfactionCounts, min_n: int) -> dict[str, Figure]:
    """Answers (with and without "no opinion"), satisfaction rate, net satisfaction and margin
    of error of one question. The rates' N is the expressed answers."""
    satisfied, expressed = counts.satisfied, counts.expressed
    value = formulas.satisfaction_rate(satisfied, expressed)
    rate = rate_figure(value, satisfied, expressed, min_n)
    net = formulas.net_satisfaction(satisfied, counts.dissatisfied, expressed)
    # The margin is the rate's interval said as half its width: hidden with the rate.
    margin = rate
    if rate.low is not None and rate.high is not None:
        small = "small_sample" if expressed < formulas.SMALL_SAMPLE else None
        half = formulas.margin_of_error((rate.low, rate.high))
        margin = dataclasses.replace(rate, value=half, warning=small)
    return {
        "answers": Figure(value=counts.answers, n=counts.answers),
        "expressed_answers": Figure(value=counts.expressed, n=counts.expressed),
        "satisfaction_rate": rate,
        "net_satisfaction": formulas.publishable(net, expressed, min_n),
        "margin_of_error": margin,
    }


def wait_time_figures(waits: Sequence[float], min_n: int) -> dict[str, Figure]:
    """Mean and median of the measured waits of served visits, in minutes."""
    n = len(waits)
    return {
        "mean_wait_minutes": formulas.publishable(formulas.mean_minutes(waits), n, min_n),
        "median_wait_minutes": formulas.publishable(formulas.median_minutes(waits), n, min_n),
    }


def wait_figures(
    visits: Sequence[VisitFact],
    threshold_minutes: float,
    min_n: int,
    linked: Sequence[Linked] = (),
) -> dict[str, Figure]:
    """Every waiting figure of one desk and period from the agents' visits (the answers linked
    to a visit give the satisfaction by waiting band)."""
    waits = formulas.served_waits(visits)
    n = len(waits)
    served = sum(v.outcome == "served" for v in visits)
    walked = sum(v.outcome == "walked_out" for v in visits)
    figures = wait_time_figures(waits, min_n)
    figures |= {
        "visits": Figure(value=len(visits), n=len(visits)),
        "unknown_outcomes": Figure(
            value=sum(v.outcome == "unknown" for v in visits), n=len(visits)
        ),
        "p90_wait_minutes": formulas.publishable(formulas.p90_minutes(waits), n, min_n),
        "max_wait_minutes": formulas.publishable(formulas.max_minutes(waits), n, min_n),
        # The threshold travels with the share, so a reader knows what "within" means.
        "wait_threshold_minutes": Figure(value=threshold_minutes, n=n),
        "within_threshold_rate": rate_figure(
            formulas.within_threshold(waits, threshold_minutes),
            formulas.count_within(waits, threshold_minutes),
            n,
            min_n,
        ),
        "walk_out_rate": rate_figure(
            formulas.walk_out_rate(served, walked), walked, served + walked, min_n
        ),
    }
    return figures | band_figures(linked, min_n)


def band_figures(linked: Sequence[Linked], min_n: int) -> dict[str, Figure]:
    """The satisfaction rate of the answers linked to a wait, per waiting band."""
    return {
        f"{catalogue.BAND_PREFIX}{band}": rate_figure(
            formulas.satisfaction_rate(satisfied, expressed), satisfied, expressed, min_n
        )
        for band, (satisfied, expressed) in formulas.satisfaction_by_band(linked).items()
    }


def score_figures(facts: DeskFacts, min_n: int) -> dict[str, Figure]:
    """Mean score out of 10 and share of scores of 8 or more, on the main question."""
    triples = formulas.score_triples(facts.main)
    n = sum(count for _level, _levels, count in triples)
    return {
        "score": formulas.publishable(formulas.mean_score(triples), n, min_n),
        "good_score_share": formulas.publishable(formulas.share_good_scores(triples), n, min_n),
    }


def participation_figure(answers: int, visitors: int, min_n: int) -> Figure:
    """Answers per visitor recorded by the agents; N is the visitors. More answers than
    recorded visitors (phone answers, visits the agents did not record) make no share of the
    visitors: hidden, and said so, rather than shown above 100 %."""
    rate = formulas.participation_rate(answers, visitors)
    if rate is not None and answers > visitors and visitors >= min_n:
        return Figure(value=None, n=visitors, hidden=True, reason="more_answers_than_visitors")
    return formulas.publishable(rate, visitors, min_n)


def register_figures(outcomes: Outcomes, min_n: int) -> dict[str, Figure]:
    """Shares of the register's entries acknowledged and answered on time."""
    figures = {}
    for name, decided in zip(("acknowledged_on_time", "answered_on_time"), outcomes, strict=True):
        value, n = formulas.share_on_time(decided)
        figures[name] = rate_figure(value, decided.count("on_time"), n, min_n)
    return figures


def figures_of(facts: DeskFacts, threshold_minutes: float, min_n: int) -> dict[str, Figure]:
    """Every figure the facts allow (a part not read gives none), without context."""
    counts = formulas.tally(facts.main)
    figures = satisfaction_figures(counts, min_n)
    if facts.visits is not None:
        figures |= wait_figures(facts.visits, threshold_minutes, min_n, facts.linked)
    elif facts.waits is not None:
        figures |= wait_time_figures(facts.waits, min_n)
    if facts.visitors is not None and facts.register is not None:
        figures |= score_figures(facts, min_n)
        figures["participation_rate"] = participation_figure(counts.answers, facts.visitors, min_n)
        figures |= register_figures(facts.register, min_n)
    return figures


def in_context(key: str, figure: Figure, before: Figure | None, target: float | None) -> Figure:
    """The figure with its unit and what its N counts, the previous period's shown value (None
    when hidden then), the target and the gap to it (None when hidden now)."""
    measure = catalogue.measure(key)
    value = None if figure.hidden else figure.value
    return dataclasses.replace(
        figure,
        previous=None if before is None or before.hidden else before.value,
        target=target,
        gap=formulas.gap(value, target),
        unit=measure.unit,
        gap_unit=measure.gap_unit,
        n_counts=measure.counted,
    )


def with_context(
    figures: Mapping[str, Figure],
    previous: Mapping[str, Figure],
    wanted: Mapping[str, float | None],
) -> dict[str, Figure]:
    """Each figure with its unit, the previous period's shown value, its target (from
    `wanted`) and the gap."""
    return {
        key: in_context(key, figure, previous.get(key), wanted.get(key))
        for key, figure in figures.items()
    }


@dataclass(frozen=True)
class QuestionFigures:
    question_id: str
    rate: Figure
    # Every chosen value with its count, "no opinion" included, in the survey's order.
    distribution: dict[str, int]


def question_figures(
    now: DeskFacts,
    before: DeskFacts,
    choices: Mapping[str, Sequence[str]],
    min_n: int,
    target: float | None,
) -> dict[str, QuestionFigures]:
    """The satisfaction rate (in context) and distribution of each smiley question, in the
    survey's order (`choices`: question → its choices)."""
    empty = SatisfactionCounts()
    result = {}
    for question, order in choices.items():
        rate = satisfaction_figures(now.questions.get(question, empty), min_n)
        earlier = satisfaction_figures(before.questions.get(question, empty), min_n)
        key = f"{catalogue.QUESTION_PREFIX}{question}"
        shown = in_context(key, rate["satisfaction_rate"], earlier["satisfaction_rate"], target)
        raw = now.distribution.get(question, {})
        ordered = {choice: raw.get(choice, 0) for choice in order}
        ordered |= {choice: n for choice, n in raw.items() if choice not in ordered}
        result[question] = QuestionFigures(question, shown, ordered)
    return result


@dataclass(frozen=True)
class Band:
    """Satisfaction of the answers linked to a measured wait in [low, high) minutes."""

    key: str
    low: int
    high: int | None
    satisfied: int | None  # None when the rate is hidden: the count would tell it
    rate: Figure


def bands_of(linked: Sequence[Linked], figures: Mapping[str, Figure]) -> list[Band]:
    """The waiting bands in order, with their counts and the published rate of `figures`."""
    counts = formulas.satisfaction_by_band(linked)
    result = []
    for low, high in formulas.BANDS:
        key = formulas.band_label(low, high)
        rate = figures[f"satisfaction_rate_wait_{key}"]
        result.append(Band(key, low, high, None if rate.hidden else counts[key][0], rate))
    return result


def heat_grid(cells: Sequence[Cell]) -> tuple[list[str], list[int], list[list[Cell | None]]]:
    """(weekdays, hours, rows of cells) for a heatmap: Monday to Friday and any weekend day with
    arrivals; every hour from the first to the last with arrivals; None where nobody came."""
    if not cells:
        return [], [], []
    seen = {cell.weekday for cell in cells}
    days = [d for d in formulas.WEEKDAYS if d in WORKING_DAYS or d in seen]
    hours = list(range(min(c.hour for c in cells), max(c.hour for c in cells) + 1))
    at = {(cell.weekday, cell.hour): cell for cell in cells}
    return days, hours, [[at.get((day, hour)) for hour in hours] for day in days]


@dataclass(frozen=True)
class Choice:
    """A choice of a survey question as the figures name it: its id and its label by language."""

    id: str
    label: dict[str, str]


@dataclass(frozen=True)
class Reason:
    """One reason for dissatisfaction, ranked: how many unhappy visitors chose it, its share of
    every reason chosen and the running share (the Pareto line; several may be chosen each)."""

    choice: str
    label: dict[str, str]
    count: int
    share: float | None  # % of the reasons chosen
    cumulative: float | None  # % of the reasons chosen, this one and those before it


def reasons_of(distribution: Mapping[str, int], choices: Sequence[Choice]) -> list[Reason]:
    """The reasons question's choices by count, most chosen first (survey order on ties); a
    choice nobody made is listed with 0, so a chart always shows every reason."""
    total = sum(distribution.get(choice.id, 0) for choice in choices)
    ranked = sorted(
        enumerate(choices), key=lambda item: (-distribution.get(item[1].id, 0), item[0])
    )
    result, running = [], 0
    for _, choice in ranked:
        count = distribution.get(choice.id, 0)
        running += count
        share = 100 * count / total if total else None
        cumulative = 100 * running / total if total else None
        result.append(Reason(choice.id, choice.label, count, share, cumulative))
    return result


@dataclass(frozen=True)
class SaidWait:
    """A waiting band as visitors declared it, against the waits measured for those of them
    whose answer is linked to an agent's visit: median measured wait under the minimum-N rule."""

    band: str
    label: dict[str, str]
    answers: int  # visitors who chose this band
    measured: Figure  # median measured wait (minutes) of the linked ones; N = linked answers


def said_waits_of(
    distribution: Mapping[str, int],
    said: Sequence[tuple[str, float]],
    choices: Sequence[Choice],
    min_n: int,
) -> list[SaidWait]:
    """Each declared band in the survey's order with its count and the median wait measured
    for the linked answers that declared it."""
    measured: dict[str, list[float]] = {}
    for band, seconds in said:
        measured.setdefault(band, []).append(seconds)
    result = []
    for choice in choices:
        waits = measured.get(choice.id, [])
        median = formulas.publishable(formulas.median_minutes(waits), len(waits), min_n)
        median = dataclasses.replace(median, unit="min", n_counts="linked_answers")
        result.append(SaidWait(choice.id, choice.label, distribution.get(choice.id, 0), median))
    return result


@dataclass(frozen=True)
class DeskFigures:
    """Every figure of one desk (site × service) for one period, as the parts asked allow."""

    site: str
    site_name: str
    service: str
    service_name: str
    period: str
    figures: dict[str, Figure] = field(default_factory=dict)
    questions: dict[str, QuestionFigures] = field(default_factory=dict)
    comments: dict[str, int] = field(default_factory=dict)  # by register category
    quality: dict[str, int] = field(default_factory=dict)
    threshold_minutes: float = 0.0  # the service's "délai d'attente"
    has_tablet: bool = False  # an enrolled, not revoked agent tablet at the desk today
    cells: list[Cell] = field(default_factory=list)  # arrivals per weekday × local hour
    bands: list[Band] = field(default_factory=list)
    # The survey's main question: its rate among `questions` is the satisfaction rate itself.
    main_question: str = ""
    # Why unhappy visitors were unhappy, ranked, and how long visitors said they waited.
    reasons: list[Reason] = field(default_factory=list)
    said_waits: list[SaidWait] = field(default_factory=list)

    def status(self, key: str) -> str:
        return targets.status(self.figures[key], key)

    @property
    def measured(self) -> bool:
        """At least one visit recorded by an agent in the period."""
        visits = self.figures.get("visits")
        return bool(visits and visits.value)

    @property
    def linked_answers(self) -> int:
        return sum(band.rate.n for band in self.bands)

    def every_figure(self) -> dict[str, Figure]:
        """Every figure of the desk by key, each question's rate as "question:<id>" after the
        desk's figures; the main question's is the satisfaction rate, listed once."""
        questions = {
            f"{catalogue.QUESTION_PREFIX}{question.question_id}": question.rate
            for question in self.questions.values()
            if question.question_id != self.main_question
        }
        return self.figures | questions

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def below_target(
    rows: Sequence[DeskFigures],
    main_question: str | None = None,
    keys: Sequence[str] = tuple(targets.INDICATORS),
) -> list[tuple[DeskFigures, str, Figure]]:
    """(desk, indicator, figure) for every shown figure among `keys` that misses its target,
    then the questions'. The main question's rate is the satisfaction rate itself: with
    `main_question`, it is listed once."""
    found = []
    for row in rows:
        for key in keys:
            if key in row.figures and row.status(key) == "below":
                found.append((row, key, row.figures[key]))
        for question in row.questions.values():
            if question.question_id == main_question:
                continue
            if targets.status(question.rate, "question_rate") == "below":
                found.append((row, f"question:{question.question_id}", question.rate))
    return found
