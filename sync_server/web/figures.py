"""The period computation called the same way by every page, export and report."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sync_server.indicators import pipeline
from sync_server.indicators.figures import DeskFigures
from sync_server.indicators.periods import Period
from sync_server.indicators.query import EVERY, IndicatorQuery, Parts, Rules, Scope
from sync_server.settings import Settings
from sync_server.storage import Storage


def desk_figures(
    storage: Storage,
    settings: Settings,
    period: Period,
    *,
    services: list[str] | None,
    sites: list[str] | None = None,
    include_suspect: bool = False,
    parts: Parts = EVERY,
) -> list[DeskFigures]:
    """Every desk's figures for `period` in the scope asked (every figure unless `parts` says
    fewer): the one computation behind the pages, the exports and the PDF reports."""
    scope = Scope.of(sites, services, include_suspect)
    query = IndicatorQuery(period, scope, Rules.from_settings(settings), parts)
    return pipeline.compute(storage, query)


def today(settings: Settings) -> date:
    return datetime.now(ZoneInfo(settings.timezone)).date()
