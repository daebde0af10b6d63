"""The comments and complaints register: read, categorise, acknowledge, answer, close.

Overdue entries (not acknowledged within 7 days, not answered within 15 working days, public
holidays of the town's calendar skipped) come first and carry a text mark; personal data is
masked unless the quality manager asks to see it. Each change is in the audit trail, with the
entry's number and its status and category before and after, never the texts.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sync_server.access import Permission, may, may_see, visible_services
from sync_server.api.deps import SettingsDep, StorageDep
from sync_server.indicators import formulas, public_holidays
from sync_server.storage import RegisterEntry, audit, quality, town
from sync_server.web import labels
from sync_server.web.access import CommentForm, ServiceReader, forbidden, nav_context
from sync_server.web.figures import today
from sync_server.web.templating import render

router = APIRouter(include_in_schema=False)
ACTIONS = ("categorise", "acknowledge", "answer", "close")
AUDIT_ACTIONS = {
    "categorise": "register.categorised",
    "acknowledge": "register.acknowledged",
    "answer": "register.answered",
    "close": "register.closed",
}
MAX_REPLY = 4000


@dataclass(frozen=True)
class Line:
    entry: RegisterEntry
    text: str
    received: date
    ack_due: date
    answer_due: date
    ack_overdue: bool
    answer_overdue: bool

    @property
    def overdue(self) -> bool:
        return self.ack_overdue or self.answer_overdue


def line(
    entry: RegisterEntry,
    zone: ZoneInfo,
    on: date,
    unmask: bool,
    holidays: Container[date] = formulas.NO_HOLIDAYS,
) -> Line:
    def local(moment: datetime | None) -> date | None:
        return None if moment is None else moment.astimezone(zone).date()

    received = local(entry.received_at)
    open_ = entry.status != "closed"
    return Line(
        entry=entry,
        text=entry.text if unmask else labels.mask_personal(entry.text),
        received=received,
        ack_due=formulas.acknowledgement_due(received),
        answer_due=formulas.answer_due(received, holidays),
        ack_overdue=open_
        and formulas.acknowledgement_overdue(received, local(entry.acknowledged_at), on),
        answer_overdue=open_
        and formulas.answer_overdue(received, local(entry.answered_at), on, holidays),
    )


@router.get("/comments")
def register_page(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: ServiceReader,
    status: str | None = None,
    service: str | None = None,
    show: int = 0,
    done: str | None = None,
) -> Response:
    services = visible_services(user, [service] if service else None)
    with storage.read() as connection:
        entries = quality.register(
            connection, services=services, status=status if status in labels.STATUSES else None
        )
        desks = town.desks(connection)
    # Unmasking is the quality manager's, who handles requests about personal data.
    unmask = bool(show) and may(user, Permission.SEE_PERSONAL_DATA)
    zone = ZoneInfo(settings.timezone)
    holidays = public_holidays.calendar(settings.holidays_region)
    lines = [line(e, zone, today(settings), unmask, holidays) for e in entries[:500]]
    lines.sort(key=lambda item: not item.overdue)  # stable: overdue first, newest first within
    names = {d.service.slug: d.service.name for d in desks}
    context = {
        **nav_context(request, user),
        "lines": lines,
        "overdue": sum(item.overdue for item in lines),
        "status": status or "",
        "service": service or "",
        "services": {s: n for s, n in names.items() if may_see(user, s)},
        "sites": {d.site.slug: d.site.name for d in desks},
        "statuses": labels.STATUSES,
        "categories": labels.CATEGORIES,
        "unmask": unmask,
        "done": done,
    }
    return render(request, "register.html", context)


def entry_change(before: RegisterEntry, after: RegisterEntry) -> dict[str, object]:
    """An entry's service, and its status and category before and after, for the audit trail
    (never the visitor's text nor the reply)."""
    details: dict[str, object] = {"service": after.service}
    for name in ("status", "category"):
        old, new = getattr(before, name), getattr(after, name)
        details[name] = audit.change(old, new) if old != new else new
    return details


@router.post("/comments/{comment_id}")
async def update_entry(
    request: Request, storage: StorageDep, posted: CommentForm, comment_id: int
) -> Response:
    user, form = posted
    with storage.read() as connection:
        found = quality.register(connection, comment_id=comment_id)
    if not found or not may_see(user, found[0].service):
        return forbidden(request, user)
    action = str(form.get("action") or "")
    category = str(form.get("category") or "") or None
    reply = str(form.get("reply") or "").strip()[:MAX_REPLY] or None
    if action not in ACTIONS or (category is not None and category not in labels.CATEGORIES):
        return render(request, "error.html", {**nav_context(request, user), "error": "invalid"},
                      status_code=400)  # fmt: skip
    with storage.write() as connection:
        before = quality.register(connection, comment_id=comment_id)[0]
        quality.update_register(
            connection, comment_id, action=action, category=category, reply=reply, by=user.username
        )
        after = quality.register(connection, comment_id=comment_id)[0]
        details = entry_change(before, after)
        audit.record(
            connection, audit.by_user(user), AUDIT_ACTIONS[action], str(comment_id), details
        )
    return RedirectResponse(f"/comments?done={comment_id}#c{comment_id}", status_code=303)
