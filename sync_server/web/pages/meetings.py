"""The monthly Qualivilles meetings: `/meetings` lists them (the next one to prepare first, a
form for the quality manager to plan one); `/meetings/{id}` prepares one from the data and
records its minutes and decisions; `/meetings/{id}/preparation.pdf` is both as a PDF.

The quality manager plans, records and closes; closed minutes are frozen (any change refused
with a 400 page, nothing changed). A service manager reads every meeting, its preparation
narrowed to their services. A decision may open an improvement action. Every change leaves an
event.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from sync_server.access import Permission, may, visible_services
from sync_server.api.deps import SettingsDep, StorageDep
from sync_server.cycle import meetings as rules
from sync_server.cycle.internal_audits import may_read
from sync_server.cycle.meetings import Meeting, MeetingClosed
from sync_server.settings import Settings
from sync_server.storage import Storage, User, audit, internal_audits, meetings, plan, town
from sync_server.web.access import MeetingForm, MeetingReader, forbidden, nav_context
from sync_server.web.figures import today
from sync_server.web.labels import N_
from sync_server.web.meeting_preparation import Preparation, kept, preparation_of, prepare
from sync_server.web.meeting_report import report_html
from sync_server.web.pages.exports import record_download
from sync_server.web.pages.reports import build_pdf, pdf_response
from sync_server.web.snapshot import one_snapshot
from sync_server.web.templating import page_language, render

router = APIRouter(include_in_schema=False)
CLOSED_PROBLEM = N_("Le compte rendu de cette réunion est clos : il ne change plus.")


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


def _text(form: Any, name: str) -> str:
    return str(form.get(name) or "").replace("\x00", "").replace("\r\n", "\n").strip()


def list_page(
    request: Request,
    storage: Storage,
    settings: Settings,
    user: User,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    with storage.read() as connection:
        every = meetings.every(connection)
    context = {
        **nav_context(request, user),
        "meetings": every,
        "next": rules.next_to_prepare(every, today(settings)),
        "may_lead": may(user, Permission.LEAD_MEETINGS),
        "problems": problems or [],
    }
    return render(request, "meetings.html", context, status_code=status_code)


@router.get("/meetings")
@one_snapshot
def meetings_page(
    request: Request, storage: StorageDep, settings: SettingsDep, user: MeetingReader
) -> Response:
    return list_page(request, storage, settings, user)


@router.post("/meetings")
async def plan_meeting(
    request: Request, storage: StorageDep, settings: SettingsDep, posted: MeetingForm
) -> Response:
    user, form = posted
    planned_on = _day(form.get("planned_on"))
    problems = rules.day_problems(planned_on, today(settings), held=False)
    if problems or planned_on is None:
        return list_page(request, storage, settings, user, problems, status_code=400)
    with storage.write() as connection:
        meeting_id = meetings.add(connection, planned_on, by=user.username)
        details = {"planned_on": planned_on.isoformat()}
        audit.record(connection, audit.by_user(user), "meeting.planned", str(meeting_id), details)
    return RedirectResponse(f"/meetings/{meeting_id}", status_code=303)


def preparation(storage: Storage, settings: Settings, user: User, meeting: Meeting) -> Preparation:
    """The meeting's preparation as `user` reads it: their services, their audits."""
    services = visible_services(user)
    with storage.read() as connection:
        years = {meeting.day.year, rules.months_after(meeting.day, 2).year}
        audits = [a for y in sorted(years) for a in internal_audits.of_year(connection, y)]
    readable = [a for a in audits if may_read(user, a)]
    return preparation_of(storage, settings, meeting, services, readable)


def _found(storage: Storage, meeting_id: int) -> Meeting | None:
    with storage.read() as connection:
        return meetings.get(connection, meeting_id)


def meeting_page(
    request: Request,
    storage: Storage,
    settings: Settings,
    user: User,
    meeting: Meeting,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    prep = preparation(storage, settings, user, meeting)
    with storage.read() as connection:
        decisions = meetings.decisions(connection, meeting.id)
        desks = town.desks(connection, services=visible_services(user))
    context = {
        **nav_context(request, user),
        "prep": prep,
        "meeting": meeting,
        "decisions": decisions,
        "may_lead": may(user, Permission.LEAD_MEETINGS) and not meeting.closed,
        "services": sorted({(d.service.slug, d.service.name) for d in desks}, key=lambda s: s[1]),
        "min_answers": settings.min_answers,
        "max_notes": rules.MAX_NOTES,
        "max_attendees": rules.MAX_ATTENDEES,
        "max_decision": rules.MAX_DECISION,
        "today": today(settings),
        "problems": problems or [],
    }
    return render(request, "meeting.html", context, status_code=status_code)


@router.get("/meetings/{meeting_id}")
@one_snapshot
def meeting_detail(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: MeetingReader,
    meeting_id: int,
) -> Response:
    found = _found(storage, meeting_id)
    if found is None:
        return forbidden(request, user)
    return meeting_page(request, storage, settings, user, found)


@router.post("/meetings/{meeting_id}/minutes")
async def save_minutes(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    posted: MeetingForm,
    meeting_id: int,
) -> Response:
    user, form = posted
    found = _found(storage, meeting_id)
    if found is None:
        return forbidden(request, user)
    held_text = _text(form, "held_on")
    held_on = _day(held_text)
    attendees = "\n".join(line.strip() for line in _text(form, "attendees").splitlines())
    notes = _text(form, "notes")
    problems = rules.minutes_problems(held_on, attendees, notes, today(settings))
    if held_text and held_on is None:
        problems += rules.day_problems(None, today(settings), held=True)
    if problems:
        return meeting_page(request, storage, settings, user, found, problems, status_code=400)
    try:
        with storage.write() as connection:
            changed = meetings.save_minutes(
                connection, meeting_id, held_on, attendees, notes, by=user.username
            )
            audit.record(
                connection, audit.by_user(user), "meeting.minutes_saved", str(meeting_id), changed
            )
    except MeetingClosed:
        return _closed(request, storage, settings, user, meeting_id)
    return RedirectResponse(f"/meetings/{meeting_id}#minutes", status_code=303)


@router.post("/meetings/{meeting_id}/decisions")
async def record_decision(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    posted: MeetingForm,
    meeting_id: int,
) -> Response:
    user, form = posted
    found = _found(storage, meeting_id)
    if found is None:
        return forbidden(request, user)
    text = " ".join(_text(form, "text").split())
    service = _text(form, "service") or None
    opens = form.get("opens_action") == "1"
    due_text = _text(form, "due_on")
    due_on = _day(due_text)
    owner = _text(form, "owner")[:100] or None
    with storage.read() as connection:
        known = {d.service.slug for d in town.desks(connection)}
    problems = rules.decision_problems(text, service, opens, known)
    if due_text and due_on is None:
        problems.append(N_("Échéance invalide : une date comme 2026-06-30."))
    if problems:
        return meeting_page(request, storage, settings, user, found, problems, status_code=400)
    draft = None
    if opens and service is not None:
        draft = plan.Draft(
            title=text, origin="meeting", services=(service,), owner=owner, due_on=due_on
        )
    try:
        with storage.write() as connection:
            decision_id, action_id = meetings.add_decision(
                connection, meeting_id, text, service, action=draft, by=user.username
            )
            actor = audit.by_user(user)
            details = {"meeting": meeting_id, "service": service, "opened_action": action_id}
            audit.record(connection, actor, "meeting.decision_recorded", str(decision_id), details)
            if action_id is not None:
                proposed = {"origin": "meeting", "services": [service], "meeting": meeting_id,
                            "plan_status": "validated"}  # fmt: skip
                audit.record(connection, actor, "action.proposed", str(action_id), proposed)
    except MeetingClosed:
        return _closed(request, storage, settings, user, meeting_id)
    return RedirectResponse(f"/meetings/{meeting_id}#decisions", status_code=303)


@router.post("/meetings/{meeting_id}/close")
async def close_minutes(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    posted: MeetingForm,
    meeting_id: int,
) -> Response:
    user, _form = posted
    found = _found(storage, meeting_id)
    if found is None:
        return forbidden(request, user)
    problems = rules.close_problems(found)
    if problems:
        return meeting_page(request, storage, settings, user, found, problems, status_code=400)
    # The whole town's preparation as it stands is kept with the minutes.
    whole = await asyncio.to_thread(prepare, storage, settings, found, None)
    try:
        with storage.write() as connection:
            closed = meetings.close(
                connection, meeting_id, by=user.username, preparation=kept(whole)
            )
            with_day = {"held_on": closed.held_on.isoformat() if closed.held_on else None}
            audit.record(
                connection, audit.by_user(user), "meeting.closed", str(meeting_id), with_day
            )
    except MeetingClosed:
        return _closed(request, storage, settings, user, meeting_id)
    return RedirectResponse(f"/meetings/{meeting_id}", status_code=303)


def _closed(
    request: Request, storage: Storage, settings: Settings, user: User, meeting_id: int
) -> Response:
    """The page of a meeting closed meanwhile, with why nothing changed."""
    found = _found(storage, meeting_id)
    assert found is not None  # a meeting is never deleted
    return meeting_page(request, storage, settings, user, found, [CLOSED_PROBLEM], status_code=400)


@router.get("/meetings/{meeting_id}/preparation.pdf")
async def preparation_pdf(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: MeetingReader,
    meeting_id: int,
) -> Response:
    """The preparation and the minutes as a PDF, for the services the reader may read."""
    found = await run_in_threadpool(_found, storage, meeting_id)
    if found is None:
        return forbidden(request, user)
    language = page_language(request)
    prep = await run_in_threadpool(preparation, storage, settings, user, found)
    html = await run_in_threadpool(report_html, storage, settings, prep, language)
    body = await build_pdf(request, html, language)
    await run_in_threadpool(
        record_download, request, storage, user, "report.downloaded", "meeting",
        {"meeting": meeting_id},
    )  # fmt: skip
    return pdf_response(body, f"reunion-qualivilles-{found.planned_on.isoformat()}")
