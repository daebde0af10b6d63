"""The quality manager's overview: one card per desk (site × service) for a month."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sync_server.api.deps import SettingsDep, StorageDep, session_user
from sync_server.indicators.periods import parse
from sync_server.web.access import nav_context
from sync_server.web.cards import build_cards, count_status
from sync_server.web.figures import desk_figures
from sync_server.web.months import month_label, month_options, parse_month
from sync_server.web.templating import page_language, render

router = APIRouter(include_in_schema=False)


@router.get("/")
def overview(
    request: Request, storage: StorageDep, settings: SettingsDep, month: str | None = None
) -> Response:
    user = session_user(request, storage)
    if user is None:
        return RedirectResponse("/login?next=/", status_code=303)
    if user.role == "admin":
        # Administrators look after the devices, not the visitors' answers.
        return RedirectResponse("/fleet", status_code=303)
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    period = parse_month(month, today)
    language = page_language(request)
    # Service managers see their own services only; the rule lives in the query, not the page.
    services = user.services if user.role == "service_manager" else None
    rows = desk_figures(storage, settings, parse("month", f"{period:%Y-%m}"), services=services)
    cards = build_cards(rows)
    context = {
        **nav_context(request, user),
        "cards": cards,
        "month": f"{period:%Y-%m}",
        "months": month_options(today, language, period),
        "period_label": month_label(period, language),
        "target": settings.target_satisfaction_rate,
        "min_answers": settings.min_answers,
        **count_status(cards),
    }
    return render(request, "dashboard.html", context)
