"""Indicators per site × service for any period: the one computation behind every dashboard page,
the exports and the PDF reports.

The base figures (answers, satisfaction, net satisfaction, margin, waits) come from
`monthly.figures_for`, the function the JSON API uses, so a month reads the same everywhere;
this adds per-question rates, score out of 10, participation, comments, the register's deadlines
(acknowledged within 7 days, answered within 15 working days) and data quality, and applies the
targets in force at the start of the period.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from qualivilles.survey import QuestionType, SurveyDefinition
from sync_server.indicators import formulas, monthly
from sync_server.indicators.formulas import Figure
from sync_server.indicators.periods import Period
from sync_server.storage import LevelCount, RegisterEntry, Storage


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
        # The "délai d'attente" engagement and its neighbours, from the agents' visits (their
        # figures are worked out by `wait_period`, which applies these targets).
        Indicator("within_threshold_rate"),
        Indicator("p90_wait_minutes", higher_is_better=False, unit="min"),
        Indicator("walk_out_rate", higher_is_better=False),
        Indicator("acknowledged_on_time"),
        Indicator("answered_on_time"),
    )
}
SATISFACTION_INDICATORS = ("satisfaction_rate", "question_rate")


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


@dataclass(frozen=True)
class QuestionFigures:
    question_id: str
    rate: Figure
    # Every chosen value with its count, "no opinion" included, in the survey's order.
    distribution: dict[str, int]


@dataclass(frozen=True)
class DeskPeriod:
    site: str
    site_name: str
    service: str
    service_name: str
    period: str
    figures: dict[str, Figure] = field(default_factory=dict)
    questions: dict[str, QuestionFigures] = field(default_factory=dict)
    comments: dict[str, int] = field(default_factory=dict)  # by register category
    quality: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def status(self, key: str) -> str:
        figure = self.figures[key]
        spec = INDICATORS.get(key, Indicator(key))
        value = None if figure.hidden else figure.value
        return formulas.status_against(value, figure.target, spec.higher_is_better)


LevelOf = Callable[[str, int, str, str], tuple[int, int] | None]


def level_lookup(survey_of: Callable[[str, int], SurveyDefinition | None]) -> LevelOf:
    """(survey id, version, question, value) → (level, levels) for smiley answers, else None."""
    cache: dict[tuple[str, int], dict[tuple[str, str], tuple[int, int]]] = {}

    def levels_of(
        survey_id: str, version: int, question: str, value: str
    ) -> tuple[int, int] | None:
        if (survey_id, version) not in cache:
            survey = survey_of(survey_id, version)
            table: dict[tuple[str, str], tuple[int, int]] = {}
            for q in survey.questions if survey else []:
                if q.type != QuestionType.SMILEY:
                    continue
                for c in q.choices:
                    if c.level is not None:
                        table[(q.id, c.id)] = (c.level, q.levels)
            cache[(survey_id, version)] = table
        return cache[(survey_id, version)].get((question, value))

    return levels_of


def _question_counts(
    items: list[Any], level_of: LevelOf
) -> tuple[dict[tuple[str, str, str], monthly.SatisfactionCounts], dict[Any, dict[str, int]]]:
    """Per (site, service, question): satisfaction counts, and the raw value distribution."""
    levels: dict[tuple[str, str, str], list[LevelCount]] = defaultdict(list)
    distribution: dict[tuple[str, str, str], dict[str, int]] = defaultdict(dict)
    for item in items:
        key = (item.site, item.service, item.question_id)
        found = level_of(item.survey_id, item.survey_version, item.question_id, item.value)
        dist = distribution[key]
        dist[item.value] = dist.get(item.value, 0) + item.count
        if found is not None or item.value == "no_opinion":
            level, steps = found if found else (None, None)
            levels[key].append(LevelCount(item.site, item.service, level, steps, item.count))
    return {key: monthly.tally(rows) for key, rows in levels.items()}, distribution


def _score_triples(rows: list[LevelCount]) -> list[tuple[int, int, int]]:
    return [
        (row.level, row.levels, row.count)
        for row in rows
        if row.level is not None and row.levels is not None
    ]


def _with_target(figure: Figure, target: float | None, previous: float | None = None) -> Figure:
    value = None if figure.hidden else figure.value
    return dataclasses.replace(
        figure,
        target=target,
        gap=formulas.gap(value, target),
        previous=previous if previous is not None else figure.previous,
    )


def _shown(value: float | None, n: int, min_answers: int) -> Figure:
    return formulas.publishable(value, n, min_answers)


RegisterOutcomes = dict[
    tuple[str, str], tuple[list[formulas.DeadlineOutcome], list[formulas.DeadlineOutcome]]
]


def register_outcomes(
    entries: list[RegisterEntry],
    zone: ZoneInfo,
    today: date,
    holidays: Container[date],
    sites: list[str] | None = None,
) -> RegisterOutcomes:
    """Per (site, service): the acknowledgement and answer outcomes of the entries given."""

    def local(moment: datetime | None) -> date | None:
        return None if moment is None else moment.astimezone(zone).date()

    found: RegisterOutcomes = defaultdict(lambda: ([], []))
    for entry in entries:
        if sites is not None and entry.site not in sites:
            continue
        acknowledged, answered = formulas.register_outcomes(
            local(entry.received_at),  # type: ignore[arg-type]
            local(entry.acknowledged_at),
            local(entry.answered_at),
            local(entry.closed_at),
            today,
            holidays,
        )
        outcomes = found[(entry.site, entry.service)]
        outcomes[0].append(acknowledged)
        outcomes[1].append(answered)
    return found


def compute(
    storage: Storage,
    period: Period,
    *,
    min_answers: int,
    default_target: float,
    timezone: str = "Europe/Paris",
    sites: list[str] | None = None,
    services: list[str] | None = None,
    include_suspect: bool = False,
    silent_devices: dict[tuple[str, str], int] | None = None,
    holidays: Container[date] = formulas.NO_HOLIDAYS,
    today: date | None = None,
    previous_waits: bool = True,
) -> list[DeskPeriod]:
    """Every figure of every desk (optionally filtered) for `period`, with the previous period,
    the targets in force on its first day, and the minimum-N rule applied.

    `holidays` are the days the register's working-day deadline skips; `today` (default: today
    in `timezone`) decides which open entries are already late and which are still pending."""
    zone = ZoneInfo(timezone)
    today = today or datetime.now(zone).date()
    desks = storage.desks(sites=sites, services=services)
    targets = Targets(storage.targets_on(period.start), default_target)
    level_of = level_lookup(storage.survey)
    start, end = period.bounds(zone)
    before_start, before_end = period.previous().bounds(zone)

    def main_counts(a: datetime, b: datetime) -> dict[tuple[str, str], list[LevelCount]]:
        grouped: dict[tuple[str, str], list[LevelCount]] = defaultdict(list)
        for row in storage.main_level_counts(
            a, b, sites=sites, services=services, include_suspect=include_suspect
        ):
            grouped[(row.site, row.service)].append(row)
        return grouped

    now_rows, before_rows = main_counts(start, end), main_counts(before_start, before_end)
    waits = storage.served_waits(start, end, sites=sites, services=services)
    # The previous period's waits (for "previous" on the wait figures): a month of visits, left
    # unread by a page that does not show them.
    waits_before = (
        storage.served_waits(before_start, before_end, sites=sites, services=services)
        if previous_waits
        else None
    )
    visitors = storage.visitor_counts(start, end, services=services)
    visitors_before = storage.visitor_counts(before_start, before_end, services=services)
    questions, distribution = _question_counts(
        storage.item_counts(start, end, services=services, include_suspect=include_suspect),
        level_of,
    )
    questions_before, _ = _question_counts(
        storage.item_counts(
            before_start, before_end, services=services, include_suspect=include_suspect
        ),
        level_of,
    )
    quality: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: {"total": 0, "suspect": 0, "partial": 0}
    )
    for row in storage.answer_quality(start, end, services=services):
        counts = quality[(row.site, row.service)]
        counts["total"] += row.count
        counts["suspect"] += row.count if row.suspect else 0
        counts["partial"] += row.count if row.partial else 0
    comments: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for (site, service, category), count in storage.comment_categories(
        start, end, services=services
    ).items():
        comments[(site, service)][category] = count
    register_now = register_outcomes(
        storage.comment_register(services=services, start=start, end=end),
        zone, today, holidays, sites,
    )  # fmt: skip
    register_before = register_outcomes(
        storage.comment_register(services=services, start=before_start, end=before_end),
        zone, today, holidays, sites,
    )  # fmt: skip
    survey = storage.current_survey()
    question_order = [q.id for q in survey.questions if q.type == QuestionType.SMILEY]
    choice_order = {q.id: [c.id for c in q.choices] for q in survey.questions}

    result = []
    for desk in desks:
        key = (desk.site.slug, desk.service.slug)
        service = desk.service.slug
        current = monthly.tally(now_rows.get(key, []))
        figures = monthly.figures_for(
            current,
            waits.get(key, []),
            min_answers=min_answers,
            target=targets.get("satisfaction_rate", service) or default_target,
            previous=monthly.tally(before_rows.get(key, [])),
            previous_waits=None if waits_before is None else waits_before.get(key, []),
        )
        triples = _score_triples(now_rows.get(key, []))
        triples_before = _score_triples(before_rows.get(key, []))
        expressed = current.expressed
        expressed_before = sum(count for _l, _s, count in triples_before)

        def previous_of(value: float | None, n: int) -> float | None:
            return _shown(value, n, min_answers).value

        extra = {
            "score": _with_target(
                _shown(formulas.mean_score(triples), expressed, min_answers),
                targets.get("score", service),
                previous_of(formulas.mean_score(triples_before), expressed_before),
            ),
            "good_score_share": _with_target(
                _shown(formulas.share_good_scores(triples), expressed, min_answers),
                targets.get("good_score_share", service),
                previous_of(formulas.share_good_scores(triples_before), expressed_before),
            ),
            "participation_rate": _with_target(
                _shown(
                    formulas.participation_rate(current.answers, visitors.get(key, 0)),
                    visitors.get(key, 0),
                    min_answers,
                ),
                targets.get("participation_rate", service),
                previous_of(
                    formulas.participation_rate(
                        monthly.tally(before_rows.get(key, [])).answers,
                        visitors_before.get(key, 0),
                    ),
                    visitors_before.get(key, 0),
                ),
            ),
        }
        for index, name in enumerate(("acknowledged_on_time", "answered_on_time")):
            value, n = formulas.share_on_time(register_now.get(key, ([], []))[index])
            before, n_before = formulas.share_on_time(register_before.get(key, ([], []))[index])
            extra[name] = _with_target(
                _shown(value, n, min_answers),
                targets.get(name, service),
                previous_of(before, n_before),
            )
        for name in ("satisfaction_rate", "net_satisfaction", "mean_wait_minutes",
                     "median_wait_minutes"):  # fmt: skip
            if name in figures:
                figures[name] = _with_target(figures[name], targets.get(name, service))
        figures.update(extra)
        desk_questions = {}
        for question_id in question_order:
            counts = questions.get((*key, question_id), monthly.SatisfactionCounts())
            before = questions_before.get((*key, question_id), monthly.SatisfactionCounts())
            rate = _shown(
                formulas.satisfaction_rate(counts.satisfied, counts.expressed),
                counts.expressed,
                min_answers,
            )
            previous = previous_of(
                formulas.satisfaction_rate(before.satisfied, before.expressed), before.expressed
            )
            raw = distribution.get((*key, question_id), {})
            ordered = {c: raw.get(c, 0) for c in choice_order.get(question_id, [])}
            ordered.update({c: n for c, n in raw.items() if c not in ordered})
            desk_questions[question_id] = QuestionFigures(
                question_id,
                _with_target(rate, targets.get("question_rate", service), previous),
                ordered,
            )
        counts = quality.get(key, {"total": 0, "suspect": 0, "partial": 0})
        result.append(
            DeskPeriod(
                site=desk.site.slug,
                site_name=desk.site.name,
                service=service,
                service_name=desk.service.name,
                period=period.key,
                figures=figures,
                questions=desk_questions,
                comments=dict(sorted(comments.get(key, {}).items())),
                quality={
                    **counts,
                    "visitors": visitors.get(key, 0),
                    "silent_devices": (silent_devices or {}).get(key, 0),
                },
            )
        )
    return result


def silent_devices_by_desk(
    storage: Storage, now: datetime, hours: int
) -> dict[tuple[str, str], int]:
    """Enrolled devices silent for longer than `hours`, per desk (from the fleet view)."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for health in storage.fleet(now, timedelta(hours=hours)):
        if health.silent:
            counts[(health.device.site, health.device.service)] += 1
    return dict(counts)


def below_target(
    rows: list[DeskPeriod], main_question: str | None = None
) -> list[tuple[DeskPeriod, str, Figure]]:
    """(desk, indicator, figure) for every shown figure that misses its target. The main
    question's rate is the satisfaction rate itself: with `main_question`, it is listed once."""
    found = []
    for row in rows:
        for key in INDICATORS:
            if key in row.figures and row.status(key) == "below":
                found.append((row, key, row.figures[key]))
        for question in row.questions.values():
            if question.question_id == main_question:
                continue
            value = None if question.rate.hidden else question.rate.value
            if formulas.status_against(value, question.rate.target, True) == "below":
                found.append((row, f"question:{question.question_id}", question.rate))
    return found
