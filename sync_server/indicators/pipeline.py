"""The one computation of the indicators, for any period: every page, export, PDF report, the
JSON API and the kiosk's published result call `compute` (one period) or `compute_months` (a
run of months: the trend, the monthly table), with the parts they show.

Per desk (site × service): the facts of the period and of the one before are read, the figures
worked out by the formulas with the minimum-N rule, then each given the previous period's
shown value, the target in force on the period's first day and the gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qualivilles.survey import QuestionType, SurveyDefinition
from sync_server.indicators import facts, figures, formulas
from sync_server.indicators.facts import DeskFacts, DeskKey, PeriodFacts
from sync_server.indicators.figures import DeskFigures
from sync_server.indicators.periods import Period, last_months
from sync_server.indicators.query import IndicatorQuery
from sync_server.indicators.targets import Targets
from sync_server.storage import Desk, Storage


def compute(storage: Storage, query: IndicatorQuery) -> list[DeskFigures]:
    """Every desk in the query's scope for the query's period, in desk order."""
    return _compute(storage, query, [query.period])


def compute_months(storage: Storage, query: IndicatorQuery, count: int) -> list[DeskFigures]:
    """Every desk for each of the `count` months ending with the month of the period's last
    day, oldest first, each month compared with the one before."""
    return _compute(storage, query, last_months(query.period, count))


@dataclass(frozen=True)
class _Context:
    """What every period of one computation shares: the query, the desk-wide reads, the survey's
    smiley questions."""

    query: IndicatorQuery
    tablets: set[DeskKey]
    silent: dict[DeskKey, int]
    choices: dict[str, list[str]]


def _compute(
    storage: Storage, query: IndicatorQuery, periods: Sequence[Period]
) -> list[DeskFigures]:
    context = _context(storage, query)
    desks = storage.desks(sites=query.scope.site_list, services=query.scope.service_list)
    before = facts.read(storage, query, periods[0].previous(), current=False)
    result = []
    for period in periods:
        now = facts.read(storage, query, period)
        wanted = Targets(storage.targets_on(period.start), query.rules.default_target)
        result += [_desk(context, desk, period, (now, before), wanted) for desk in desks]
        before = now
    return result


def _context(storage: Storage, query: IndicatorQuery) -> _Context:
    parts, hours = query.parts, query.rules.silent_after_hours
    return _Context(
        query=query,
        tablets=facts.desks_with_a_tablet(storage) if parts.visits else set(),
        silent=facts.silent_devices(storage, hours) if parts.details and hours else {},
        choices=_smiley_choices(storage.current_survey()) if parts.details else {},
    )


def _smiley_choices(survey: SurveyDefinition) -> dict[str, list[str]]:
    """Each smiley question of the survey with its choices, in the survey's order."""
    return {
        question.id: [choice.id for choice in question.choices]
        for question in survey.questions
        if question.type == QuestionType.SMILEY
    }


def _desk(
    context: _Context,
    desk: Desk,
    period: Period,
    read: tuple[PeriodFacts, PeriodFacts],
    wanted: Targets,
) -> DeskFigures:
    key = (desk.site.slug, desk.service.slug)
    now, before = read[0].desk(key), read[1].desk(key)
    rules, threshold = context.query.rules, desk.service.wait_threshold_minutes
    current = figures.figures_of(now, threshold, rules.min_answers)
    previous = figures.figures_of(before, threshold, rules.min_answers)
    targets = {name: wanted.get(name, desk.service.slug) for name in current}
    return DeskFigures(
        site=desk.site.slug,
        site_name=desk.site.name,
        service=desk.service.slug,
        service_name=desk.service.name,
        period=period.key,
        figures=figures.with_context(current, previous, targets),
        threshold_minutes=threshold,
        has_tablet=key in context.tablets,
        **_details(context, key, (now, before), wanted.get("question_rate", key[1])),
        **_visits(context, now, current),
    )


def _details(
    context: _Context, key: DeskKey, read: tuple[DeskFacts, DeskFacts], target: float | None
) -> dict[str, object]:
    """Questions, comments and data quality, when the query asks for the details."""
    now, before = read
    if now.register is None:
        return {}
    return {
        "questions": figures.question_figures(
            now, before, context.choices, context.query.rules.min_answers, target
        ),
        "comments": now.comments,
        "quality": {
            **now.quality,
            "visitors": now.visitors or 0,
            "silent_devices": context.silent.get(key, 0),
        },
    }


def _visits(
    context: _Context, now: DeskFacts, current: dict[str, formulas.Figure]
) -> dict[str, object]:
    """The heatmap's cells and the waiting bands, when the query asks for the visits."""
    if now.visits is None:
        return {}
    rules = context.query.rules
    return {
        "cells": formulas.by_hour_and_weekday(now.visits, rules.zone, rules.min_answers),
        "bands": figures.bands_of(now.linked, current),
    }
