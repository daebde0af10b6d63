"""The quality manager's overview: one card per desk (site × service) for a week, month,
quarter, year or survey campaign (the last complete month by default), under the notices of new
quality managers the reader has not acknowledged yet and of the comments triage flagged for
them to read first."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from sync_server.access import Permission, may, visible_services
from sync_server.api.deps import SettingsDep, StorageDep
from sync_server.comments.reading import Pending, pending
from sync_server.indicators.query import CARDS
from sync_server.settings import Settings
from sync_server.storage import Storage, User, audit, town
from sync_server.web.access import OverviewReader, nav_context
from sync_server.web.audit_text import Wording, line
from sync_server.web.cards import build_cards, count_status
from sync_server.web.cycle_glance import cycle_glance_context
from sync_server.web.figures import desk_figures, today
from sync_server.web.overdue_actions import overdue_context
from sync_server.web.period_choice import choose, picker
from sync_server.web.snapshot import one_snapshot
from sync_server.web.templating import page_language, render

router = APIRouter(include_in_schema=False)


def notices_context(
    storage: Storage, settings: Settings, user: User, language: str
) -> dict[str, object]:
    """The new quality managers a quality manager has not acknowledged yet (storage.audit)."""
    if not may(user, Permission.READ_AUDIT):
        return {"notices": [], "notices_up_to": 0, "notice_days": audit.NOTICE_DAYS}
    with storage.read() as connection:
        found = audit.notices(connection, user.username)
        services = {d.service.slug: d.service.name for d in town.desks(connection)} if found else {}
    words = Wording.of(language, services, ZoneInfo(settings.timezone))
    return {
        "notices": [(event, line(event, words)) for event in found],
        "notices_up_to": max((event.id for event in found), default=0),
        "notice_days": audit.NOTICE_DAYS,
    }


def flagged_notice(storage: Storage, user: User) -> Pending | None:
    """The flagged comments waiting for the quality manager (None for anyone else)."""
    if not may(user, Permission.REVIEW_FLAGGED):
        return None
    with storage.read() as connection:
        return pending(connection)


@router.get("/")
@one_snapshot
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
        **notices_context(storage, settings, user, language),
        **overdue_context(storage, settings, user),
        **cycle_glance_context(storage, settings, user),
        **nav_context(request, user),
        "flagged": flagged_notice(storage, user),
        "cards": cards,
        "choice": choice,
        "picker": picker(choice, on, language),
        "target": settings.target_satisfaction_rate,
        "min_answers": settings.min_answers,
        **count_status(cards),
    }
    return render(request, "dashboard.html", context)
