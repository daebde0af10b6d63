"""The improvement plan: `/actions` lists the actions (filters by status, service, origin,
overdue) with a form to propose one; `/actions/{id}` edits an action, moves its status and
shows its effect, measured before and after its completion.

A service manager proposes and carries out the actions of their services; validating and
abandoning are the quality manager's. Every change leaves an event in the audit trail.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sync_server import i18n
from sync_server.access import Permission, may, may_see, visible_services
from sync_server.api.deps import SettingsDep, StorageDep
from sync_server.cycle.plan import (
    CLOSED,
    NEXT,
    ORIGINS,
    STATUSES,
    VALIDATOR_ONLY,
    InvalidTransition,
    next_steps,
    overdue,
)
from sync_server.indicators.targets import INDICATORS
from sync_server.settings import Settings
from sync_server.storage import Storage, User, audit, plan, referential, surveys, town
from sync_server.storage.models import PlanAction
from sync_server.web import labels, plan_labels
from sync_server.web.access import PlanForm, PlanReader, forbidden, nav_context
from sync_server.web.effectiveness import effect
from sync_server.web.figures import today
from sync_server.web.labels import N_
from sync_server.web.plan_form import Known, read_draft
from sync_server.web.snapshot import one_snapshot
from sync_server.web.templating import page_language, render

router = APIRouter(include_in_schema=False)
FILTERS = ("status", "service", "origin", "overdue")


def known(storage: Storage) -> Known:
    with storage.read() as connection:
        desks = town.desks(connection)
        codes = [e.code for e in referential.engagements(connection)]
        survey = surveys.current(connection)
    sites: dict[str, set[str]] = {}
    for desk in desks:
        sites.setdefault(desk.service.slug, set()).add(desk.site.slug)
    questions = [q.id for q in survey.follow_ups if q.type == "smiley"]
    return Known(services=set(sites), sites=sites, engagements=codes, questions=questions)


def may_act(user: User, action: PlanAction) -> bool:
    """Whether `user` may edit the action or move it: every one of its services is theirs."""
    return may(user, Permission.PLAN_ACTIONS) and all(may_see(user, s) for s in action.services)


def by_name(item: tuple[str, str]) -> str:
    """A (slug, name) pair's sort key: "État civil" among the E, not after Z."""
    return unicodedata.normalize("NFD", item[1]).casefold()


def form_context(storage: Storage, user: User) -> dict[str, Any]:
    """What the proposal and edit forms offer: the user's services, sites, engagements,
    indicators (the survey's questions included)."""
    with storage.read() as connection:
        desks = town.desks(connection, services=visible_services(user))
        engagements = referential.engagements(connection)
        survey = surveys.current(connection)
    services = {d.service.slug: d.service.name for d in desks}
    sites = {d.site.slug: d.site.name for d in desks}
    questions = [
        (f"question:{q.id}", labels.QUESTION_NAMES.get(q.id, q.id))
        for q in survey.follow_ups
        if q.type == "smiley"
    ]
    return {
        "form_services": sorted(services.items(), key=by_name),
        "form_sites": sorted(sites.items(), key=by_name),
        "engagements": engagements,
        "indicators": [(k, labels.INDICATOR_NAMES[k]) for k in INDICATORS] + questions,
        "origins": plan_labels.ORIGINS,
        "statuses": plan_labels.PLAN_STATUSES,
        "steps": plan_labels.STATUS_STEPS,
    }


def names(storage: Storage) -> dict[str, dict[str, str]]:
    with storage.read() as connection:
        desks = town.desks(connection)
    return {
        "service_names": {d.service.slug: d.service.name for d in desks},
        "site_names": {d.site.slug: d.site.name for d in desks},
    }


def indicator_label(key: str | None) -> str:
    """The msgid naming an indicator key ("question:welcome" included)."""
    if not key:
        return ""
    if key.startswith("question:"):
        return labels.QUESTION_NAMES.get(key.removeprefix("question:"), key)
    return labels.INDICATOR_NAMES.get(key, key)


def plan_page(
    request: Request,
    storage: Storage,
    settings: Settings,
    user: User,
    query: dict[str, str | None],
    problems: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    query = {name: query.get(name) for name in FILTERS}
    wanted = query.get("service")
    chosen = plan.Filter(
        services=visible_services(user, [wanted] if wanted else None),
        status=query.get("status") if query.get("status") in STATUSES else None,
        origin=query.get("origin") if query.get("origin") in ORIGINS else None,
        overdue_on=today(settings) if query.get("overdue") else None,
    )
    with storage.read() as connection:
        found = plan.actions(connection, chosen)
    on = today(settings)
    context = {
        **nav_context(request, user),
        **form_context(storage, user),
        **names(storage),
        "actions": [(a, overdue(a.status, a.due_on, on)) for a in found],
        "overdue_count": sum(overdue(a.status, a.due_on, on) for a in found),
        "query": query,
        "problems": problems or [],
        "indicator_label": indicator_label,
    }
    return render(request, "actions.html", context, status_code=status_code)


@router.get("/actions")
@one_snapshot
def actions_page(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: PlanReader,
    status: str | None = None,
    service: str | None = None,
    origin: str | None = None,
    overdue: str | None = None,
) -> Response:
    query = {"status": status, "service": service, "origin": origin, "overdue": overdue}
    return plan_page(request, storage, settings, user, query)


def draft_details(draft: plan.Draft) -> dict[str, Any]:
    """An action as its proposal's event keeps it: never its title's words."""
    return {
        "origin": draft.origin,
        "services": list(draft.services),
        "engagement": draft.engagement,
        "indicator": draft.indicator,
        "site": draft.site,
        "owner": draft.owner,
        "due": draft.due_on.isoformat() if draft.due_on else None,
    }


@router.post("/actions")
async def propose(
    request: Request, storage: StorageDep, settings: SettingsDep, posted: PlanForm
) -> Response:
    user, form = posted
    draft, problems = read_draft(form, known(storage))
    if draft is None:
        return plan_page(request, storage, settings, user, {}, problems, status_code=400)
    if not all(may_see(user, service) for service in draft.services):
        return forbidden(request, user)
    with storage.write() as connection:
        action_id = plan.propose(connection, draft, by=user.username)
        details = draft_details(draft)
        audit.record(connection, audit.by_user(user), "action.proposed", str(action_id), details)
    return RedirectResponse(f"/actions/{action_id}", status_code=303)


def action_page(
    request: Request,
    storage: Storage,
    settings: Settings,
    user: User,
    action: PlanAction,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    may_validate = may(user, Permission.VALIDATE_ACTIONS)
    acting = may_act(user, action)
    with storage.read() as connection:
        engagement = referential.engagement(connection, action.engagement or "")
    context = {
        **nav_context(request, user),
        **form_context(storage, user),
        **names(storage),
        "action": action,
        "engagement": engagement,
        "is_overdue": overdue(action.status, action.due_on, today(settings)),
        "may_edit": acting and action.status not in CLOSED,
        "next_steps": next_steps(action.status, may_validate=may_validate) if acting else [],
        "effect": effect(storage, settings, action, today(settings)),
        "min_answers": settings.min_answers,
        "problems": problems or [],
        "indicator_label": indicator_label,
    }
    return render(request, "action.html", context, status_code=status_code)


def _found(storage: Storage, action_id: int, user: User) -> PlanAction | None:
    """The action if it exists and one of its services is within the user's reach."""
    with storage.read() as connection:
        action = plan.get(connection, action_id)
    if action is None or not any(may_see(user, s) for s in action.services):
        return None
    return action


@router.get("/actions/{action_id}")
@one_snapshot
def action_detail(
    request: Request, storage: StorageDep, settings: SettingsDep, user: PlanReader, action_id: int
) -> Response:
    action = _found(storage, action_id, user)
    if action is None:
        return forbidden(request, user)
    return action_page(request, storage, settings, user, action)


@router.post("/actions/{action_id}")
async def edit_action(
    request: Request, storage: StorageDep, settings: SettingsDep, posted: PlanForm, action_id: int
) -> Response:
    user, form = posted
    action = _found(storage, action_id, user)
    if action is None or not may_act(user, action):
        return forbidden(request, user)
    if action.status in CLOSED:
        problem = N_("Une action réalisée ou abandonnée ne se modifie plus.")
        return action_page(request, storage, settings, user, action, [problem], status_code=400)
    draft, problems = read_draft(form, known(storage))
    if draft is None:
        return action_page(request, storage, settings, user, action, problems, status_code=400)
    if not all(may_see(user, service) for service in draft.services):
        return forbidden(request, user)
    with storage.write() as connection:
        changed = plan.edit(connection, action_id, draft, by=user.username)
        audit.record(connection, audit.by_user(user), "action.edited", str(action_id), changed)
    return RedirectResponse(f"/actions/{action_id}", status_code=303)


@router.post("/actions/{action_id}/status")
async def change_status(
    request: Request, storage: StorageDep, settings: SettingsDep, posted: PlanForm, action_id: int
) -> Response:
    user, form = posted
    action = _found(storage, action_id, user)
    if action is None or not may_act(user, action):
        return forbidden(request, user)
    wanted = str(form.get("status") or "")
    may_validate = may(user, Permission.VALIDATE_ACTIONS)
    try:
        with storage.write() as connection:
            before, after = plan.move(
                connection, action_id, wanted, may_validate=may_validate, by=user.username
            )
            code = "action.validated" if after == "validated" else "action.status_changed"
            details = {"plan_status": audit.change(before, after)}
            audit.record(connection, audit.by_user(user), code, str(action_id), details)
    except InvalidTransition:
        problem = refused_step(action.status, wanted, may_validate, page_language(request))
        return action_page(request, storage, settings, user, action, [problem], status_code=400)
    return RedirectResponse(f"/actions/{action_id}", status_code=303)


def refused_step(current: str, wanted: str, may_validate: bool, language: str) -> str:
    """Why a status change was refused, in the page language."""
    _ = i18n.translations(language).gettext
    if wanted in NEXT.get(current, ()) and wanted in VALIDATOR_ONLY and not may_validate:
        return _("Seul le ou la responsable qualité valide ou abandonne une action.")
    shown = plan_labels.PLAN_STATUSES
    return _("Une action « %(current)s » ne peut pas passer à « %(wanted)s ». Rien n'a changé.") % {
        "current": _(shown.get(current, current)),
        "wanted": _(shown[wanted]) if wanted in shown else wanted,
    }
