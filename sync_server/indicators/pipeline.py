"""The one computation of the indicators, for any period: every page, export, PDF report, the
JSON API and the kiosk's published result call `compute` (one period) or `compute_months` (a
run of months: the trend, the monthly table), with the parts they show.

Per desk (site × service): the facts of the period and of the one before are read, the figures
worked out by the formulas with the minimum-N rule, then each given the previous period's
shown value, the target in force on the period's first day and the gap. One computation reads
everything in one `storage.read()`: one snapshot.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qualivilles.survey import Question, QuestionType, SurveyDefinition
from sync_server.indicators import catalogue, facts, figures, formulas
from sync_server.indicators.facts import DeskFacts, DeskKey, PeriodFacts
from sync_server.indicators.figures import DeskFigures
from sync_server.indicators.formulas import Figure
from sync_server.indicators.periods import Period, last_months
from sync_server.indicators.query import IndicatorQuery
from sync_server.indicators.targets import Targets
from sync_server.storage import Connection, Desk, Storage, projection, quality, surveys, town


def compute(storage: Storage, query: IndicatorQuery) -> list[DeskFigures]:
    """Every desk in the query's scope for the query's period, in desk order."""
    return _compute(storage, query, [query.period], with_lag=False)[0]


def compute_months(storage: Storage, query: IndicatorQuery, count: int) -> list[DeskFigures]:
    """Every desk for each of the `count` months ending with the month of the period's last
    day, oldest first, each month compared with the one before."""
    return _compute(storage, query, last_months(query.period, count), with_lag=False)[0]


def compute_with_lag(
    storage: Storage, query: IndicatorQuery, count: int | None = None
) -> tuple[list[DeskFigures], projection.Lag]:
    """As `compute` (`compute_months` with a `count`), with the records not counted yet read in
    the same snapshot: together they account for every record received."""
    periods = [query.period] if count is None else last_months(query.period, count)
    figures, lag = _compute(storage, query, periods, with_lag=True)
    assert lag is not None
    return figures, lag


@dataclass(frozen=True)
class _Context:
    """What every period of one computation shares: the query, the desk-wide reads, the survey's
    smiley questions."""

    query: IndicatorQuery
    tablets: set[DeskKey]
    silent: dict[DeskKey, int]
    choices: dict[str, list[str]]
    main_question: str
    reasons: Asked  # the reasons question and its choices
    wait_bands: Asked  # the question where visitors say how long they waited


@dataclass(frozen=True)
class _Read:
    """Every desk in one period: facts and figures (before context), the previous period's, and
    the targets in force."""

    period: Period
    now: PeriodFacts
    before: PeriodFacts
    shown: dict[DeskKey, dict[str, Figure]]
    shown_before: dict[DeskKey, dict[str, Figure]]
    targets: Targets


def _compute(
    storage: Storage, query: IndicatorQuery, periods: Sequence[Period], *, with_lag: bool
) -> tuple[list[DeskFigures], projection.Lag | None]:
    scope = query.scope
    with storage.read() as connection:
        lag = projection.lag(connection) if with_lag else None
        context = _context(connection, query)
        desks = town.desks(connection, sites=scope.site_list, services=scope.service_list)
        read = facts.read_each(connection, storage.zone, query, [periods[0].previous(), *periods])
        targets_in_force = [quality.targets_on(connection, period.start) for period in periods]
    before, shown_before = read[0], _figures(context, desks, read[0])
    result = []
    for period, now, in_force in zip(periods, read[1:], targets_in_force, strict=True):
        shown = _figures(context, desks, now)
        targets = Targets(in_force, query.rules.default_target)
        one = _Read(period, now, before, shown, shown_before, targets)
        result += [_desk(context, desk, one) for desk in desks]
        # Each period is the next one's previous: its figures are worked out once.
        before, shown_before = now, shown
    return result, lag


def _figures(
    context: _Context, desks: Sequence[Desk], found: PeriodFacts
) -> dict[DeskKey, dict[str, Figure]]:
    """Every desk's figures of one period, before the previous period and targets are added."""
    min_n, shown = context.query.rules.min_answers, {}
    for desk in desks:
        key = (desk.site.slug, desk.service.slug)
        threshold = desk.service.wait_threshold_minutes
        shown[key] = figures.figures_of(found.desk(key), threshold, min_n)
    return shown


def _context(connection: Connection, query: IndicatorQuery) -> _Context:
    parts, hours = query.parts, query.rules.silent_after_hours
    survey = surveys.current(connection) if parts.details else None
    return _Context(
        query=query,
        tablets=facts.desks_with_a_tablet(connection) if parts.visits else set(),
        silent=facts.silent_devices(connection, hours) if parts.details and hours else {},
        choices=_smiley_choices(survey) if survey else {},
        main_question=survey.main_question if survey else "",
        reasons=_asked(survey, _asks_why_unhappy),
        wait_bands=_asked(survey, lambda question, _: question.wait_band),
    )


def _asks_why_unhappy(question: Question, survey: SurveyDefinition) -> bool:
    """The several-choice question asked after an unhappy main answer: the reasons."""
    shown_if = question.show_if
    return (
        question.type == QuestionType.MULTIPLE_CHOICE
        and shown_if is not None
        and shown_if.question == survey.main_question
    )


@dataclass(frozen=True)
class Asked:
    """A question of the survey and its choices (none: the survey has no such question)."""

    question: str = ""
    choices: list[figures.Choice] = dataclasses.field(default_factory=list)

    def counts(self, now: DeskFacts) -> dict[str, int]:
        return now.distribution.get(self.question, {})


def _asked(
    survey: SurveyDefinition | None, chosen: Callable[[Question, SurveyDefinition], bool]
) -> Asked:
    """The survey's first question `chosen` accepts, with its choices' labels by language."""
    for question in survey.questions if survey else []:
        if chosen(question, survey):
            choices = [figures.Choice(c.id, dict(c.label)) for c in question.choices]
            return Asked(question.id, choices)
    return Asked()


def _smiley_choices(survey: SurveyDefinition) -> dict[str, list[str]]:
    """Each smiley question of the survey with its choices, in the survey's order."""
    return {
        question.id: [choice.id for choice in question.choices]
        for question in survey.questions
        if question.type == QuestionType.SMILEY
    }


def _desk(context: _Context, desk: Desk, read: _Read) -> DeskFigures:
    key, service = (desk.site.slug, desk.service.slug), desk.service.slug
    now, before = read.now.desk(key), read.before.desk(key)
    current, threshold = read.shown[key], desk.service.wait_threshold_minutes
    satisfaction_target = read.targets.get("satisfaction_rate", service)
    # The waiting bands are satisfaction rates: the satisfaction target is theirs too.
    targets = {
        name: satisfaction_target
        if name.startswith(catalogue.BAND_PREFIX)
        else read.targets.get(name, service)
        for name in current
    }
    shown = figures.with_context(current, read.shown_before[key], targets)
    return DeskFigures(
        site=desk.site.slug,
        site_name=desk.site.name,
        service=service,
        service_name=desk.service.name,
        period=read.period.key,
        figures=shown,
        threshold_minutes=threshold,
        has_tablet=key in context.tablets,
        main_question=context.main_question,
        **_details(context, key, now, before, read.targets.get("question_rate", service), shown),
        **_visits(context, now, shown),
    )


def _details(
    context: _Context,
    key: DeskKey,
    now: DeskFacts,
    before: DeskFacts,
    target: float | None,
    shown: dict[str, Figure],
) -> dict[str, object]:
    """Questions, comments and data quality, when the query asks for the details. The main
    question's rate is the desk's satisfaction rate, target included: one figure, not two."""
    if now.register is None:
        return {}
    questions = figures.question_figures(
        now, before, context.choices, context.query.rules.min_answers, target
    )
    main = questions.get(context.main_question)
    if main is not None:
        questions[main.question_id] = dataclasses.replace(main, rate=shown["satisfaction_rate"])
    reasons, bands = context.reasons, context.wait_bands
    return {
        "questions": questions,
        "reasons": figures.reasons_of(reasons.counts(now), reasons.choices),
        "said_waits": figures.said_waits_of(
            bands.counts(now), now.said, bands.choices, context.query.rules.min_answers
        ),
        "comments": now.comments,
        "quality": {
            **now.quality,
            "visitors": now.visitors or 0,
            "silent_devices": context.silent.get(key, 0),
        },
    }


def _visits(context: _Context, now: DeskFacts, current: dict[str, Figure]) -> dict[str, object]:
    """The heatmap's cells and the waiting bands, when the query asks for the visits."""
    if now.visits is None:
        return {}
    rules = context.query.rules
    return {
        "cells": formulas.by_hour_and_weekday(now.visits, rules.zone, rules.min_answers),
        "bands": figures.bands_of(now.linked, current),
    }
