"""The comments and complaints register: read, categorise, acknowledge, answer, close, and its
export (CSV, XLSX) for the audit.

Each entry shows when it was received, acknowledged, answered and closed (the town's time zone)
and by whom, and each deadline (acknowledgement within 7 days, answer within 15 working days,
public holidays of the town's calendar skipped) with its delay and outcome, counted by the same
rule as the register's indicators (`formulas.register_outcomes`: closing does both steps).
Entries still open past a deadline come first and carry a text mark. Filters: received between
two days, status, service, category, deadlines.

Comments triage flags (urgent, insulting, naming a person: `sync_server.comments`) are the
quality manager's to read first: they see why, the words highlighted, and release the comment or
keep it hidden; until released, everyone else gets a placeholder, never the text. Filter:
flagged ones (to review, or all).

Personal data in the comment and the reply is masked unless the quality manager asks to see it
(the service's listed agents' names too).
Contact details a visitor left to be answered are shown to the people who answer (the quality
manager, the service's managers) and never exported. Each change is in the audit trail, with
the entry's number and its status and category before and after, never the texts.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel import Locale
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from sync_server import i18n
from sync_server.access import Permission, may, may_see, visible_services
from sync_server.api.deps import SettingsDep, StorageDep
from sync_server.comments.reading import PLACEHOLDERS, Withheld, masked, withheld
from sync_server.comments.triage import Reason, Triage, segments, triage
from sync_server.contact_details import display_phone
from sync_server.indicators import formulas, public_holidays
from sync_server.indicators.formulas import DeadlineOutcome
from sync_server.settings import Settings
from sync_server.storage import RegisterEntry, Storage, User, audit, exports, quality, town
from sync_server.storage import triage as triage_storage
from sync_server.storage.models import RegisterContact
from sync_server.web import export_words, labels, record_sheets
from sync_server.web.access import (
    CommentForm,
    ReviewForm,
    ServiceReader,
    forbidden,
    nav_context,
)
from sync_server.web.figures import today
from sync_server.web.pages.exports import MEDIA, file_name, file_response, record_download
from sync_server.web.snapshot import one_snapshot
from sync_server.web.templating import page_language, render

router = APIRouter(include_in_schema=False)
ACTIONS = ("categorise", "acknowledge", "answer", "close", "forget_contact")
AUDIT_ACTIONS = {
    "categorise": "register.categorised",
    "acknowledge": "register.acknowledged",
    "answer": "register.answered",
    "close": "register.closed",
    "forget_contact": "register.contact_erased",
}
# The longest reply kept; a longer one is refused with its length, never cut.
MAX_REPLY = 4000
# Entries shown on the page (the export has them all).
PAGE_LIMIT = 500
# The days a period filter may name: any town's register, far from the calendar's ends (where a
# day's midnight in the town's zone has no UTC time).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)


@dataclass(frozen=True)
class Step:
    """One deadline of an entry: due day, the local day it counts as done (None: not yet),
    the delay from receipt to then (or to today while open) and the outcome."""

    due: date
    done: date | None
    delay: int
    outcome: DeadlineOutcome


@dataclass(frozen=True)
class Line:
    entry: RegisterEntry
    text: str
    reply: str | None
    received: datetime  # local times, in the town's zone
    acknowledged: datetime | None
    answered: datetime | None
    closed: datetime | None
    acknowledgement: Step  # delay in calendar days (the deadline is 7 days)
    answer: Step  # delay in working days (the deadline is 15 working days)
    triage: Triage = field(default_factory=Triage)
    # Why this reader gets a placeholder instead of the text ("" then); None: they read it.
    held: Withheld | None = None
    # The text shown, cut into pieces with the reason each flagged word was flagged for.
    pieces: tuple[tuple[str, Reason | None], ...] = ()

    @property
    def to_review(self) -> bool:
        """Flagged and waiting for the quality manager's decision."""
        return self.triage.flagged and self.entry.review is None

    @property
    def urgent(self) -> bool:
        """Urgent and not yet reviewed: comes first for the quality manager."""
        return self.to_review and self.triage.urgent

    @property
    def ack_overdue(self) -> bool:
        return self.acknowledgement.outcome == "late"

    @property
    def answer_overdue(self) -> bool:
        return self.answer.outcome == "late"

    @property
    def late(self) -> bool:
        """A deadline missed, whether the entry was handled since or not."""
        return self.ack_overdue or self.answer_overdue

    @property
    def overdue(self) -> bool:
        """A step still not done after its due day: to handle first."""
        return self.entry.status != "closed" and any(
            step.done is None and step.outcome == "late"
            for step in (self.acknowledgement, self.answer)
        )


def line(
    entry: RegisterEntry,
    zone: ZoneInfo,
    on: date,
    unmask: bool,
    holidays: Container[date] = formulas.NO_HOLIDAYS,
    *,
    staff_names: Sequence[str] = (),
    reviewer: bool = False,
) -> Line:
    """An entry as the register shows and exports it, on day `on` (the town's today), to a
    `reviewer` of flagged comments (the quality manager) or not. The outcomes are
    `formulas.register_outcomes`' (closing does both steps), with each received day's due
    dates counted once."""

    def local(moment: datetime | None) -> datetime | None:
        return None if moment is None else moment.astimezone(zone)

    received, acknowledged = local(entry.received_at), local(entry.acknowledged_at)
    answered, closed = local(entry.answered_at), local(entry.closed_at)
    assert received is not None
    day = received.date()
    ack_done, ack_due = _earliest(acknowledged, closed), formulas.acknowledgement_due(day)
    answer_done, answer_due = _earliest(answered, closed), _answer_due(day, holidays)
    found = triage(entry.text, staff_names) if entry.text else Triage()
    held = None if reviewer else withheld(found.flagged, entry.review)
    if held:
        pieces: tuple[tuple[str, Reason | None], ...] = ()
    elif reviewer:
        pieces = _pieces(entry.text, found, unmask, staff_names)
    else:
        pieces = ((_shown(entry.text, unmask, staff_names) or "", None),)
    return Line(
        entry=entry,
        text="".join(piece for piece, _reason in pieces),
        reply=_shown(entry.reply, unmask, staff_names),
        triage=found,
        held=held,
        pieces=pieces,
        received=received,
        acknowledged=acknowledged,
        answered=answered,
        closed=closed,
        acknowledgement=Step(
            due=ack_due,
            done=ack_done,
            delay=max(0, ((ack_done or on) - day).days),
            outcome=formulas.deadline_outcome(ack_done, ack_due, on),
        ),
        answer=Step(
            due=answer_due,
            done=answer_done,
            delay=_working_days(day, answer_done or on, holidays),
            outcome=formulas.deadline_outcome(answer_done, answer_due, on),
        ),
    )


def _shown(text: str | None, unmask: bool, staff_names: Sequence[str] = ()) -> str | None:
    """A comment or a reply as the page shows it: names (the listed agents' too) and long
    numbers masked unless asked."""
    if not text:
        return text
    return text if unmask else masked(text, staff_names)


def _pieces(
    text: str, found: Triage, unmask: bool, staff_names: Sequence[str]
) -> tuple[tuple[str, Reason | None], ...]:
    """The text as shown, in pieces marked with what triage found there (each piece masked
    on its own, so the marks stay on the words they mark)."""
    if not text:
        return ()
    return tuple(
        (_shown(piece, unmask, staff_names) or "", reason)
        for piece, reason in segments(text, found.hits)
    )


# A register reads thousands of entries received on a few hundred days: each deadline and delay
# is counted once per day (and pair of days), not once per entry.
@lru_cache(maxsize=100_000)
def _answer_due(received: date, holidays: Container[date]) -> date:
    return formulas.answer_due(received, holidays)


@lru_cache(maxsize=100_000)
def _working_days(start: date, end: date, holidays: Container[date]) -> int:
    return formulas.working_days_between(start, end, holidays)


def _earliest(*moments: datetime | None) -> date | None:
    return min((m.date() for m in moments if m is not None), default=None)


def flag_kept(item: Line, flagged: str | None) -> bool:
    """Whether a line passes the flagged filter (`labels.FLAG_FILTERS`; None: all)."""
    if flagged == "pending":
        return item.to_review
    if flagged == "flagged":
        return item.triage.flagged
    return True


def keep(item: Line, deadlines: str | None) -> bool:
    """Whether a line passes the deadlines filter (`labels.DEADLINE_FILTERS`; None: all)."""
    if deadlines == "open":
        return item.overdue
    if deadlines == "late":
        return item.late
    if deadlines == "on_time":
        return not item.late
    return True


# -- filters -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The register's filters as asked in the address, checked; `problem` says why the period
    asked was not used (then every date is shown)."""

    first: date | None = None  # received on or after (local day)
    last: date | None = None  # received on or before (local day)
    status: str | None = None
    service: str | None = None
    category: str | None = None
    deadlines: str | None = None
    flagged: str | None = None  # `labels.FLAG_FILTERS`
    problem: str | None = None
    asked_first: str = ""
    asked_last: str = ""

    @classmethod
    def read(
        cls,
        first: str | None,
        last: str | None,
        status: str | None,
        service: str | None,
        category: str | None,
        overdue: str | None,
        flagged: str | None = None,
    ) -> Filters:
        problem, start, end = None, None, None
        try:
            start = date.fromisoformat(first) if first else None
            end = date.fromisoformat(last) if last else None
        except ValueError:
            problem, start, end = "bad_date", None, None
        if any(day is not None and not FIRST_DAY <= day <= LAST_DAY for day in (start, end)):
            problem, start, end = "bad_date", None, None
        if start is not None and end is not None and end < start:
            problem, start, end = "end_before_start", None, None
        return cls(
            first=start,
            last=end,
            status=status if status in labels.STATUSES else None,
            service=service or None,
            category=category if category in labels.CATEGORIES else None,
            deadlines=overdue if overdue in labels.DEADLINE_FILTERS else None,
            flagged=flagged if flagged in labels.FLAG_FILTERS else None,
            problem=problem,
            asked_first=(first or "")[:10],
            asked_last=(last or "")[:10],
        )

    def bounds(self, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        """[start, end) in UTC of the days asked, in the town's zone."""
        start = None if self.first is None else datetime.combine(self.first, time(), zone)
        end = None
        if self.last is not None:
            end = datetime.combine(self.last + timedelta(days=1), time(), zone)
        return start, end

    def audit_details(self) -> dict[str, object]:
        return {
            "from": None if self.first is None else self.first.isoformat(),
            "to": None if self.last is None else self.last.isoformat(),
            "status": self.status,
            "service": audit.asked(self.service),
            "category": self.category,
            "overdue": self.deadlines,
            **({"flagged": self.flagged} if self.flagged else {}),
        }


def register_lines(
    storage: Storage, settings: Settings, user: User, filters: Filters, unmask: bool
) -> list[Line]:
    """Every entry the user may read that passes the filters: for the quality manager, urgent
    flagged ones to review first; then open overdue ones; newest first within."""
    services = visible_services(user, [filters.service] if filters.service else None)
    zone = ZoneInfo(settings.timezone)
    start, end = filters.bounds(zone)
    with storage.read() as connection:
        entries = quality.register(
            connection,
            services=services,
            start=start,
            end=end,
            status=filters.status,
            category=filters.category,
        )
        names = triage_storage.staff_names(connection, services)
    holidays = public_holidays.calendar(settings.holidays_region)
    on = today(settings)
    reviewer = may(user, Permission.REVIEW_FLAGGED)
    lines = [
        line(e, zone, on, unmask, holidays, staff_names=names.get(e.service, ()),
             reviewer=reviewer)
        for e in entries
    ]  # fmt: skip
    lines = [i for i in lines if keep(i, filters.deadlines) and flag_kept(i, filters.flagged)]
    # Stable: newest first within each group.
    lines.sort(key=lambda item: (not (reviewer and item.urgent), not item.overdue))
    return lines


def shown_contacts(storage: Storage, user: User, lines: list[Line]) -> dict[int, RegisterContact]:
    """The contact details left for these lines, for a user who answers visitors (of these
    entries' services); nothing for anyone else."""
    if not may(user, Permission.HANDLE_COMMENTS):
        return {}
    wanted = [i.entry.id for i in lines if i.entry.contact_left and may_see(user, i.entry.service)]
    with storage.read() as connection:
        return quality.contacts(connection, wanted)


def page_context(
    request: Request,
    storage: Storage,
    settings: Settings,
    user: User,
    filters: Filters,
    lines: list[Line],
    unmask: bool,
) -> dict[str, object]:
    with storage.read() as connection:
        desks = town.desks(connection)
    names = {d.service.slug: d.service.name for d in desks}
    shown = lines[:PAGE_LIMIT]
    return {
        **nav_context(request, user),
        "lines": shown,
        "total": len(lines),
        "overdue": sum(item.overdue for item in lines),
        "filters": filters,
        "status": filters.status or "",
        "service": filters.service or "",
        "services": {s: n for s, n in names.items() if may_see(user, s)},
        "sites": {d.site.slug: d.site.name for d in desks},
        "statuses": labels.STATUSES,
        "categories": labels.CATEGORIES,
        "deadline_filters": labels.DEADLINE_FILTERS,
        "flag_filters": labels.FLAG_FILTERS,
        "reasons": labels.TRIAGE_REASONS,
        "reviews": labels.REVIEWS,
        "placeholders": PLACEHOLDERS,
        "to_review": sum(item.to_review for item in lines),
        "outcomes": labels.DEADLINE_OUTCOMES,
        "contacts": shown_contacts(storage, user, shown),
        "contact_days": settings.contact_details_retention_days,
        "display_phone": display_phone,
        "language_names": Locale.parse(i18n.BABEL_LOCALES[page_language(request)]).languages,
        "zone": ZoneInfo(settings.timezone),
        "unmask": unmask,
        "max_reply": MAX_REPLY,
        "problem": None,
        "done": None,
        "export_query": _export_query(request),
    }


def _export_query(request: Request) -> str:
    """The page's filters for its export links (without the unmask switch, which changes
    nothing in an export)."""
    wanted = ("from", "to", "status", "service", "category", "overdue", "flagged")
    kept = [(k, v) for k, v in request.query_params.multi_items() if k in wanted and v]
    return urlencode([*kept, ("lang", page_language(request))])


def asked_filters(
    status: str | None = None,
    service: str | None = None,
    category: str | None = None,
    overdue: str | None = None,
    flagged: str | None = None,
    first: Annotated[str | None, Query(alias="from")] = None,
    last: Annotated[str | None, Query(alias="to")] = None,
) -> Filters:
    """The register's filters as the address asks for them: the page and its export alike."""
    return Filters.read(first, last, status, service, category, overdue, flagged)


AskedFilters = Annotated[Filters, Depends(asked_filters)]


@router.get("/comments")
@one_snapshot
def register_page(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: ServiceReader,
    filters: AskedFilters,
    show: int = 0,
    done: str | None = None,
) -> Response:
    # Unmasking is the quality manager's, who handles requests about personal data.
    unmask = bool(show) and may(user, Permission.SEE_PERSONAL_DATA)
    lines = register_lines(storage, settings, user, filters, unmask)
    context = page_context(request, storage, settings, user, filters, lines, unmask)
    context["done"] = done
    return render(request, "register.html", context)


# -- review of flagged comments ------------------------------------------------------------


REVIEW_EVENTS = {"released": "triage.released", "kept_hidden": "triage.kept_hidden"}


@router.post("/comments/{comment_id}/review")
async def review_entry(
    request: Request, storage: StorageDep, posted: ReviewForm, comment_id: int
) -> Response:
    """The quality manager releases a flagged comment to its service's managers (masked), or
    keeps it hidden from them; recorded with the reasons it was flagged for, never its text."""
    user, form = posted
    decision = str(form.get("decision") or "")
    with storage.read() as connection:
        found = quality.register(connection, comment_id=comment_id)
    if not found or decision not in REVIEW_EVENTS:
        return render(request, "error.html", {**nav_context(request, user), "error": "invalid"},
                      status_code=400)  # fmt: skip
    with storage.write() as connection:
        entry = found[0]
        names = triage_storage.staff_names(connection, [entry.service]).get(entry.service, [])
        earlier = triage_storage.review(connection, comment_id, decision, by=user.username)
        details: dict[str, object] = {
            "service": entry.service,
            "reasons": list(triage(entry.text, names).reasons),
            "decision": audit.change(earlier, decision) if earlier else decision,
        }
        audit.record(
            connection, audit.by_user(user), REVIEW_EVENTS[decision], str(comment_id), details
        )
    return RedirectResponse(f"/comments?done={comment_id}#c{comment_id}", status_code=303)


# -- export ------------------------------------------------------------------------------------


def export_lines(lines: list[Line], gettext: Any) -> list[list[Any]]:
    """One row per entry (`record_sheets.REGISTER_COLUMNS`): moments in the town's time zone,
    delays, outcomes and who did each step; never the visitor's text, the reply nor contact
    details. Site and service as codes: `record_sheets.register_sheet` names them."""
    rows = []
    for item in lines:
        e, ack, answer = item.entry, item.acknowledgement, item.answer
        rows.append([
            e.id, _naive(item.received), e.site, e.service,
            gettext(labels.CATEGORIES.get(e.category or "none", e.category or "")),
            gettext(labels.STATUSES.get(e.status, e.status)),
            _naive(item.acknowledged), e.acknowledged_by, ack.due, ack.delay,
            gettext(labels.DEADLINE_OUTCOMES[ack.outcome]),
            _naive(item.answered), e.answered_by, answer.due, answer.delay,
            gettext(labels.DEADLINE_OUTCOMES[answer.outcome]),
            _naive(item.closed), e.closed_by, *(export_words.yes_no(flag, gettext) for flag in (
                item.overdue, e.flagged, e.contact_left, e.purged_at)),
        ])  # fmt: skip
    return rows


def _naive(moment: datetime | None) -> datetime | None:
    """A local moment as a spreadsheet's date cell holds it: without its zone."""
    return None if moment is None else moment.replace(tzinfo=None)


@router.get("/comments/export.{fmt}")
def register_export(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: ServiceReader,
    fmt: str,
    filters: AskedFilters,
) -> Response:
    if fmt not in MEDIA:
        return Response(status_code=404)
    language = page_language(request)
    _ = i18n.translations(language).gettext
    lines = register_lines(storage, settings, user, filters, unmask=False)
    lines.sort(key=lambda item: (item.entry.received_at, item.entry.id))  # oldest first
    with storage.read() as connection:
        names = exports.place_names(connection)
    sheet = record_sheets.register_sheet(export_lines(lines, _), names, _)
    period = f"{filters.first or ''}..{filters.last or ''}" if filters.first or filters.last else ""
    name = file_name(_("registre"), period, filters.service)
    response = file_response(fmt, name, [sheet, export_words.dictionary([sheet], _)], language)
    details = {**filters.audit_details(), "rows": len(sheet.rows)}
    record_download(request, storage, user, "export.downloaded", f"register.{fmt}", details)
    return response


# -- changes -----------------------------------------------------------------------------------


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
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    posted: CommentForm,
    comment_id: int,
) -> Response:
    user, form = posted
    with storage.read() as connection:
        found = quality.register(connection, comment_id=comment_id)
    if not found or not may_see(user, found[0].service):
        return forbidden(request, user)
    action = str(form.get("action") or "")
    category = str(form.get("category") or "") or None
    reply = str(form.get("reply") or "").strip() or None
    if action not in ACTIONS or (category is not None and category not in labels.CATEGORIES):
        return render(request, "error.html", {**nav_context(request, user), "error": "invalid"},
                      status_code=400)  # fmt: skip
    if action == "answer" and reply is not None and len(reply) > MAX_REPLY:
        return reply_refused(request, storage, settings, user, found[0], reply)
    with storage.write() as connection:
        before = quality.register(connection, comment_id=comment_id)[0]
        if action == "forget_contact":
            changed = quality.forget_contact(connection, comment_id)  # none left: nothing done
        else:
            changed = True
            quality.update_register(
                connection,
                comment_id,
                action=action,
                category=category,
                reply=reply,
                by=user.username,
            )
        after = quality.register(connection, comment_id=comment_id)[0]
        if changed:
            details = entry_change(before, after)
            audit.record(
                connection, audit.by_user(user), AUDIT_ACTIONS[action], str(comment_id), details
            )
    return RedirectResponse(f"/comments?done={comment_id}#c{comment_id}", status_code=303)


def reply_refused(
    request: Request,
    storage: Storage,
    settings: Settings,
    user: User,
    entry: RegisterEntry,
    reply: str,
) -> Response:
    """The entry alone, its reply refused as too long with its length, and the text typed back
    in the field so nothing is lost; nothing is changed."""
    with storage.read() as connection:
        names = triage_storage.staff_names(connection, [entry.service])
    item = line(
        entry,
        ZoneInfo(settings.timezone),
        today(settings),
        unmask=False,
        holidays=public_holidays.calendar(settings.holidays_region),
        staff_names=names.get(entry.service, ()),
        reviewer=may(user, Permission.REVIEW_FLAGGED),
    )
    context = page_context(request, storage, settings, user, Filters(), [item], unmask=False)
    context["problem"] = {"id": entry.id, "code": "reply_too_long", "length": len(reply),
                          "reply": reply}  # fmt: skip
    return render(request, "register.html", context, status_code=400)
