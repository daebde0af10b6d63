"""The quality manager's overview: one card per desk (site × service) for a week, month,
quarter, year or survey campaign (the last complete month by default)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from sync_server.access import visible_services
from sync_server.api.deps import SettingsDep, StorageDep
from sync_server.indicators.query import CARDS
from sync_server.web.access import OverviewReader, nav_context
from sync_server.web.cards import build_cards, count_status
from sync_server.web.figures import desk_figures, today
from sync_server.web.period_choice import choose, picker
from sync_server.web.templating import page_language, render

router = APIRouter(include_in_schema=False)


@router.get("/")
def overview(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: OverviewReader,
    kind: str | None = None,
    period: str | None = None,
    first: Annotated[str | None, Query(alias="from")] = None,
    last: Annotated[str | None, Query(alias="to")] = None,
    month: str | None = None,
) -> Response:
    if month and not (kind or period):  # links made before the picker: ?month=YYYY-MM
        kind, period = "month", month
    language = page_language(request)
    on = today(settings)
    choice = choose(kind, period, on, language, first=first, last=last)
    # Service managers see their own services only; the rule lives in the query, not the page.
    services = visible_services(user)
    # The cards show no previous wait: the previous period's visits are not read for them.
    rows = desk_figures(storage, settings, choice.period, services=services, parts=CARDS)
    cards = build_cards(rows)
    context = {
        **nav_context(request, user),
        "cards": cards,
        "choice": choice,
        "picker": picker(choice, on, language),
        "target": settings.target_satisfaction_rate,
        "min_answers": settings.min_answers,
        **count_status(cards),
    }
    return render(request, "dashboard.html", context)
