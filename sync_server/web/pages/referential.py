"""The referential and the certified scope, the quality manager's: each service's phase and
date of certification with the engagements that apply to it, the engagements themselves (code,
title, channel, whether they apply to every certified service), and the engagement each
indicator measures. The town file sets the same (`storage.referential.load`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import format_date
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sync_server import i18n
from sync_server.api.deps import StorageDep
from sync_server.cycle.referential import (
    Engagement,
    InvalidReferential,
    check_channel,
    check_code,
    check_phase,
    check_since,
    check_title,
)
from sync_server.indicators.targets import INDICATORS
from sync_server.storage import Storage, User, audit, referential
from sync_server.web import labels, plan_labels
from sync_server.web.access import ReferentialForm, ReferentialReader, nav_context
from sync_server.web.labels import N_
from sync_server.web.templating import page_language, render

router = APIRouter(include_in_schema=False)
INVALID = N_("Les valeurs envoyées ne sont pas valides. Rien n'a été modifié.")


def since_text(since: str, language: str) -> str:
    """ "2008" as is, "2020-03" as "mars 2020", "2021-05-17" as "17 mai 2021"."""
    parts = [int(part) for part in since.split("-")]
    if len(parts) == 1:
        return since
    locale = i18n.BABEL_LOCALES[language]
    day = date(parts[0], parts[1], parts[2] if len(parts) == 3 else 1)
    return format_date(day, "d MMMM y" if len(parts) == 3 else "MMMM y", locale=locale)


def referential_page(
    request: Request,
    storage: Storage,
    user: User,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    with storage.read() as connection:
        engagements = referential.engagements(connection)
        scope = referential.scope(connection)
        ties = referential.ties(connection)
    context = {
        **nav_context(request, user),
        "engagements": engagements,
        "titles": {e.code: e.title for e in engagements},
        "scope": scope,
        "ties": ties,
        "indicators": [(key, labels.INDICATOR_NAMES[key]) for key in INDICATORS],
        "indicator_names": labels.INDICATOR_NAMES,
        "since_text": lambda since: since_text(since, page_language(request)),
        "channels": plan_labels.CHANNELS,
        "problem": problem,
    }
    return render(request, "referential.html", context, status_code=status_code)


@router.get("/referential")
def referential_view(request: Request, storage: StorageDep, user: ReferentialReader) -> Response:
    return referential_page(request, storage, user)


def _refused(request: Request, storage: Storage, user: User, error: str) -> Response:
    return referential_page(request, storage, user, error, status_code=400)


@router.post("/referential/engagements")
async def save_engagement(
    request: Request, storage: StorageDep, posted: ReferentialForm
) -> Response:
    user, form = posted
    try:
        engagement = Engagement(
            code=check_code(str(form.get("code") or "").strip().upper(), "code"),
            title=check_title(form.get("title"), "title"),
            channel=check_channel(form.get("channel"), "channel"),
            all_services=form.get("all_services") == "on",
        )
    except InvalidReferential:
        problem = N_(
            "Un engagement a un code comme ACC-01, un intitulé et un canal. Rien n'a été modifié."
        )
        return _refused(request, storage, user, problem)
    with storage.write() as connection:
        before = referential.engagement(connection, engagement.code)
        referential.save_engagement(connection, engagement, by=user.username)
        details: dict[str, Any] = {
            "title": audit.change(before.title if before else None, engagement.title),
            "channel": audit.change(before.channel if before else None, engagement.channel),
            "all_services": audit.change(
                before.all_services if before else None, engagement.all_services
            ),
        }
        details = {k: v for k, v in details.items() if v["before"] != v["after"]}
        actor = audit.by_user(user)
        audit.record(connection, actor, "referential.engagement_saved", engagement.code, details)
    return RedirectResponse(f"/referential#e-{engagement.code}", status_code=303)


@router.post("/referential/scope")
async def save_scope(request: Request, storage: StorageDep, posted: ReferentialForm) -> Response:
    user, form = posted
    service = str(form.get("service") or "")
    with storage.read() as connection:
        services = {s.slug: s for s in referential.scope(connection)}
        codes = {e.code for e in referential.engagements(connection)}
    chosen = {str(code) for code in form.getlist("engagements")}
    try:
        phase_text = str(form.get("phase") or "").strip()
        phase = check_phase(int(phase_text), "phase") if phase_text else None
        since = check_since(str(form.get("since") or "").strip() or None, "since")
    except (InvalidReferential, ValueError):
        problem = N_(
            "Une phase est un nombre de 1 à 20 ; une date, une année, un mois ou un jour "
            "(2020, 2020-03, 2020-03-16). Rien n'a été modifié."
        )
        return _refused(request, storage, user, problem)
    if service not in services or not chosen <= codes:
        return _refused(request, storage, user, INVALID)
    before = services[service]
    with storage.write() as connection:
        referential.set_certification(
            connection, service, phase=phase, since=since, applying_codes=chosen
        )
        after = {s.slug: s for s in referential.scope(connection)}[service]
        details = {
            "phase": audit.change(before.phase, after.phase),
            "since": audit.change(before.since, after.since),
            "engagements": audit.change(list(before.engagements), list(after.engagements)),
        }
        details = {k: v for k, v in details.items() if v["before"] != v["after"]}
        audit.record(connection, audit.by_user(user), "referential.scope_changed", service, details)
    return RedirectResponse(f"/referential#s-{service}", status_code=303)


@router.post("/referential/indicators")
async def tie_indicator(request: Request, storage: StorageDep, posted: ReferentialForm) -> Response:
    user, form = posted
    indicator = str(form.get("indicator") or "")
    code = str(form.get("engagement") or "") or None
    with storage.read() as connection:
        codes = {e.code for e in referential.engagements(connection)}
        before = referential.ties(connection).get(indicator)
    if indicator not in INDICATORS or (code is not None and code not in codes):
        return _refused(request, storage, user, INVALID)
    with storage.write() as connection:
        referential.tie(connection, indicator, code)
        details = {"engagement": audit.change(before, code)}
        audit.record(
            connection, audit.by_user(user), "referential.indicator_tied", indicator, details
        )
    return RedirectResponse("/referential#indicators", status_code=303)
