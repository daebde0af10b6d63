"""The effect of a done improvement action, measured with the one computation (`desk_figures`)
over the months before its completion and the months after, for the indicator and the
services (or the one site) it targets."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Literal
from zoneinfo import ZoneInfo

from sync_server.cycle.effect import DEFAULT_MONTHS, Windows, pool, poolable, windows
from sync_server.indicators import catalogue
from sync_server.indicators.figures import DeskFigures
from sync_server.indicators.formulas import Figure
from sync_server.indicators.periods import Period
from sync_server.settings import Settings
from sync_server.storage import Storage, town
from sync_server.storage.models import PlanAction
from sync_server.web.figures import desk_figures

State = Literal["not_done", "measuring", "measured", "one_desk_only"]
# The indicators a figure of the computation measures (the generic "question_rate" is none: an
# action names its question).
MEASURABLE = frozenset(catalogue.MEASURES) - {"question_rate"}


@dataclass(frozen=True)
class Side:
    period: Period
    figure: Figure


@dataclass(frozen=True)
class Effect:
    indicator: str
    state: State
    months: int = DEFAULT_MONTHS
    before: Side | None = None
    after: Side | None = None


def figure_of(row: DeskFigures, indicator: str) -> Figure:
    """One desk's figure for an indicator key, a question's rate ("question:welcome") included;
    none (N = 0) when the period gives none."""
    if indicator.startswith(catalogue.QUESTION_PREFIX):
        question = indicator.removeprefix(catalogue.QUESTION_PREFIX)
        if question == row.main_question:
            return row.figures["satisfaction_rate"]
        found = row.questions.get(question)
        return found.rate if found else Figure(value=None, n=0)
    return row.figures.get(indicator, Figure(value=None, n=0))


def measured(storage: Storage, settings: Settings, action: PlanAction, period: Period) -> Figure:
    """The action's indicator over `period`, its desks read as one (`cycle.effect.pool`) under
    the town's minimum N."""
    # Every desk's raw figure (no minimum): a desk under the minimum still counts in the whole.
    raw = settings.model_copy(update={"min_answers": 1})
    sites = [action.site] if action.site else None
    rows = desk_figures(storage, raw, period, services=list(action.services), sites=sites)
    figures = [figure_of(row, action.indicator or "") for row in rows]
    whole = pool(figures, settings.min_answers)
    unit = catalogue.measure(action.indicator or "satisfaction_rate").unit
    return replace(whole, unit=unit)


def effect(
    storage: Storage,
    settings: Settings,
    action: PlanAction,
    today: date,
    months: int = DEFAULT_MONTHS,
) -> Effect | None:
    """The before/after measure of an action that targets an indicator (None otherwise)."""
    indicator = action.indicator
    if not indicator or not (indicator in MEASURABLE or indicator.startswith("question:")):
        return None
    if action.done_at is None:
        return Effect(indicator, "not_done", months)
    if not poolable(indicator) and not action.site:
        with storage.read() as connection:
            desks = town.desks(connection, services=list(action.services))
        if len(desks) > 1:
            return Effect(indicator, "one_desk_only", months)
    done = action.done_at.astimezone(ZoneInfo(settings.timezone)).date()
    span: Windows = windows(done, today, months)
    before = Side(span.before, measured(storage, settings, action, span.before))
    after = Side(span.after, measured(storage, settings, action, span.after))
    return Effect(indicator, "measured" if span.complete else "measuring", months, before, after)
