"""The annual review (bilan annuel): every indicator below target over a year, each with the
improvement action recorded for it ("vous nous l'avez demandé, on l'a fait")."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sync_server.access import visible_services
from sync_server.api.deps import SettingsDep, StorageDep
from sync_server.indicators.figures import below_target
from sync_server.indicators.periods import Period, parse
from sync_server.indicators.targets import INDICATORS, WAIT_KEYS
from sync_server.settings import Settings
from sync_server.storage import Storage, User, audit, quality, referential, surveys, town
from sync_server.web import labels
from sync_server.web.access import ActionForm, IndicatorReader, nav_context
from sync_server.web.figures import desk_figures, today
from sync_server.web.snapshot import one_snapshot
from sync_server.web.templating import render

router = APIRouter(include_in_schema=False)
MAX_ACTION = 2000


def year_period(year: int | None, settings: Settings) -> Period:
    current = today(settings).year
    chosen = year if year is not None and 2000 <= year <= current else current - 1
    return parse("year", str(chosen))


def review_data(storage: Storage, settings: Settings, user: User, period: Period) -> dict[str, Any]:
    """What both the page and the PDF show: the year's figures, misses and their actions."""
    services = visible_services(user)
    rows = desk_figures(storage, settings, period, services=services)
    # The waiting-time engagement and its neighbours are among the keys: one computation.
    keys = [*INDICATORS, *(key for key in WAIT_KEYS if key not in INDICATORS)]
    with storage.read() as connection:
        actions = quality.actions(connection, period.start.year, services)
        main_question = surveys.current(connection).main_question
    by_key: dict[tuple[str, str], list[Any]] = {}
    for action in actions:
        by_key.setdefault((action.service, action.indicator), []).append(action)
    misses = [
        {
            "row": row,
            "indicator": indicator,
            "figure": figure,
            "actions": by_key.get((row.service, indicator), []),
        }
        for row, indicator, figure in below_target(rows, main_question, keys)
    ]
    return {
        "rows": rows,
        "misses": misses,
        "without_action": sum(not m["actions"] for m in misses),
        "year": period.start.year,
    }


def indicator_name(key: str) -> str:
    """The msgid naming an indicator key, "question:welcome" included."""
    if key.startswith("question:"):
        return labels.QUESTION_NAMES.get(key.split(":", 1)[1], key)
    return labels.INDICATOR_NAMES.get(key, key)


@router.get("/review")
@one_snapshot
def review_page(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: IndicatorReader,
    year: int | None = None,
) -> Response:
    period = year_period(year, settings)
    context = {
        **nav_context(request, user),
        **review_data(storage, settings, user, period),
        "years": list(range(today(settings).year, today(settings).year - 6, -1)),
        "indicator_name": indicator_name,
        "min_answers": settings.min_answers,
        "certified": certified_names(storage),
    }
    return render(request, "review.html", context)


def certified_names(storage: Storage) -> list[tuple[str, str]]:
    """The certified services (a phase and a date), as (code, name): the evidence pack's scope."""
    with storage.read() as connection:
        scope = referential.scope(connection)
    return [(s.slug, s.name) for s in scope if s.phase is not None and s.since is not None]


@router.post("/review/actions")
async def record_action(
    request: Request, storage: StorageDep, settings: SettingsDep, posted: ActionForm
) -> Response:
    user, form = posted
    service = str(form.get("service") or "")
    indicator = str(form.get("indicator") or "")
    text = str(form.get("action") or "").strip()[:MAX_ACTION]
    try:
        year = int(str(form.get("year") or ""))
    except ValueError:
        year = 0
    with storage.read() as connection:
        known = {d.service.slug for d in town.desks(connection)}
    if (
        service not in known
        or not text
        or not 2000 <= year <= today(settings).year
        or not (indicator in INDICATORS or indicator.startswith("question:"))
    ):
        return render(request, "error.html", {**nav_context(request, user), "error": "invalid"},
                      status_code=400)  # fmt: skip
    with storage.write() as connection:
        action_id = quality.record_action(
            connection,
            year=year,
            service=service,
            indicator=indicator,
            action=text,
            by=user.username,
        )
        details = {"year": year, "service": service, "indicator": indicator}
        audit.record(connection, audit.by_user(user), "action.recorded", str(action_id), details)
    return RedirectResponse(f"/review?year={year}", status_code=303)
