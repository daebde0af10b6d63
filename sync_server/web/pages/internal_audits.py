"""Internal audits: `/audits` is the year's plan (a form for the quality manager to plan one),
`/audits/{id}` an audit with its findings (a form for its pair), `/audits/{id}/report.pdf` its
report.

Each person sees the audits `cycle.internal_audits.may_read` lets them: the quality manager
every one, an auditor those they are one of the pair of, a service manager their services'.
A non-conformity opens an improvement action in the plan. Every change leaves an event.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from sync_server import i18n
from sync_server.access import Permission, may
from sync_server.api.body_limit import body_limit_for, upload_route
from sync_server.api.deps import SettingsDep, StorageDep
from sync_server.cycle.internal_audits import (
    MAX_ATTACHMENT_BYTES,
    MAX_EVIDENCE,
    MEDIA_TYPES,
    VERDICTS,
    Audit,
    attachment_kind,
    may_enter,
    may_read,
    next_statuses,
    plan_problems,
)
from sync_server.settings import Settings
from sync_server.storage import Storage, User, audit, internal_audits, referential, town
from sync_server.web import audit_labels
from sync_server.web.access import (
    AuditPlanForm,
    FindingForm,
    InternalAuditReader,
    forbidden,
    nav_context,
)
from sync_server.web.audit_report import report_html
from sync_server.web.figures import today
from sync_server.web.labels import N_
from sync_server.web.pages.exports import record_download
from sync_server.web.pages.reports import build_pdf
from sync_server.web.snapshot import one_snapshot
from sync_server.web.templating import page_language, render

router = APIRouter(include_in_schema=False)
# What the rest of a finding's form may take of the server's body limit, besides its file.
FORM_MARGIN = 64_000


# The findings form takes a file: its body may be larger than the server's limit for others.
FINDING_UPLOAD = upload_route("POST", r"/audits/\d+/findings", MAX_ATTACHMENT_BYTES + FORM_MARGIN)


def attachment_limit(settings: Settings) -> int:
    """The largest file a finding takes: the rule's, within what the findings form's route
    lets a body carry."""
    route = body_limit_for("POST", "/audits/1/findings", settings.max_body_bytes, [FINDING_UPLOAD])
    return min(MAX_ATTACHMENT_BYTES, route - FORM_MARGIN)


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value or ""))
    except ValueError:
        return None


def _names(storage: Storage) -> dict[str, str]:
    with storage.read() as connection:
        return {d.service.slug: d.service.name for d in town.desks(connection)}


def plan_page(
    request: Request,
    storage: Storage,
    settings: Settings,
    user: User,
    year: int,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    with storage.read() as connection:
        audits = [a for a in internal_audits.of_year(connection, year) if may_read(user, a)]
        scope = [s for s in referential.scope(connection) if s.phase is not None]
        auditors = internal_audits.auditors(connection)
    context = {
        **nav_context(request, user),
        "year": year,
        "audits": audits,
        "service_names": _names(storage),
        "certified": [(s.slug, s.name) for s in scope],
        "audited": {a.service for a in audits if a.status != "cancelled"},
        "auditors": auditors,
        "may_plan": may(user, Permission.PLAN_INTERNAL_AUDITS),
        "statuses": audit_labels.AUDIT_STATUSES,
        "problems": problems or [],
    }
    return render(request, "internal_audits.html", context, status_code=status_code)


@router.get("/audits")
@one_snapshot
def audits_page(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: InternalAuditReader,
    year: int | None = None,
) -> Response:
    shown = year if year is not None and 2000 <= year <= 2100 else today(settings).year
    return plan_page(request, storage, settings, user, shown)


@router.post("/audits")
async def plan_audit(
    request: Request, storage: StorageDep, settings: SettingsDep, posted: AuditPlanForm
) -> Response:
    user, form = posted
    service = str(form.get("service") or "")
    audit_on = _day(form.get("audit_on"))
    pair = (str(form.get("first_auditor") or ""), str(form.get("second_auditor") or ""))
    with storage.read() as connection:
        certified = {s.slug for s in referential.scope(connection) if s.phase is not None}
        auditors = set(internal_audits.auditors(connection))
    on = today(settings)
    problems = plan_problems(
        service, audit_on, pair, certified=certified, auditors=auditors, today=on
    )
    if problems or audit_on is None:
        return plan_page(request, storage, settings, user, on.year, problems, status_code=400)
    with storage.write() as connection:
        audit_id = internal_audits.add(connection, service, audit_on, pair, by=user.username)
        details = {"service": service, "day": audit_on.isoformat(), "auditors": list(pair)}
        audit.record(
            connection, audit.by_user(user), "internal_audit.planned", str(audit_id), details
        )
    return RedirectResponse(f"/audits/{audit_id}", status_code=303)


def _found(storage: Storage, audit_id: int, user: User) -> Audit | None:
    """The audit if it exists and the user may read it."""
    with storage.read() as connection:
        found = internal_audits.get(connection, audit_id)
    return found if found is not None and may_read(user, found) else None


def audit_page(
    request: Request,
    storage: Storage,
    settings: Settings,
    user: User,
    found: Audit,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    with storage.read() as connection:
        findings = internal_audits.findings(connection, found.id)
        files = internal_audits.attachments(connection, found.id)
        scope = {s.slug: s for s in referential.scope(connection)}
        engagements = {e.code: e for e in referential.engagements(connection)}
    applying = scope[found.service].engagements if found.service in scope else ()
    context = {
        **nav_context(request, user),
        "audit": found,
        "findings": findings,
        "service_names": _names(storage),
        "engagements": engagements,
        "applying": [engagements[code] for code in applying if code in engagements],
        "may_enter": may_enter(user, found),
        "next_steps": next_statuses(found.status)
        if may(user, Permission.PLAN_INTERNAL_AUDITS)
        else (),
        "statuses": audit_labels.AUDIT_STATUSES,
        "steps": audit_labels.AUDIT_STEPS,
        "verdicts": audit_labels.VERDICTS,
        "max_evidence": MAX_EVIDENCE,
        "files": files,
        "max_attachment_mb": f"{attachment_limit(settings) / 1_000_000:.1f}",
        "problems": problems or [],
    }
    return render(request, "internal_audit.html", context, status_code=status_code)


@router.get("/audits/{audit_id}")
@one_snapshot
def audit_detail(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: InternalAuditReader,
    audit_id: int,
) -> Response:
    found = _found(storage, audit_id, user)
    if found is None:
        return forbidden(request, user)
    return audit_page(request, storage, settings, user, found)


@router.post("/audits/{audit_id}/status")
async def change_status(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    posted: AuditPlanForm,
    audit_id: int,
) -> Response:
    user, form = posted
    found = _found(storage, audit_id, user)
    if found is None:
        return forbidden(request, user)
    wanted = str(form.get("status") or "")
    try:
        with storage.write() as connection:
            before, after = internal_audits.move(connection, audit_id, wanted, by=user.username)
            details = {"audit_status": audit.change(before, after)}
            audit.record(
                connection,
                audit.by_user(user),
                "internal_audit.status_changed",
                str(audit_id),
                details,
            )
    except internal_audits.AuditStatusRefused:
        problem = N_("Cet audit ne peut pas passer à ce statut. Rien n'a changé.")
        return audit_page(request, storage, settings, user, found, [problem], status_code=400)
    return RedirectResponse(f"/audits/{audit_id}", status_code=303)


@router.post("/audits/{audit_id}/findings")
async def record_finding(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    posted: FindingForm,
    audit_id: int,
) -> Response:
    user, form = posted
    found = _found(storage, audit_id, user)
    if found is None or not may_enter(user, found):
        return forbidden(request, user)
    engagement = str(form.get("engagement") or "")
    verdict = str(form.get("verdict") or "")
    evidence = str(form.get("evidence") or "").strip()
    with storage.read() as connection:
        scope = {s.slug: s.engagements for s in referential.scope(connection)}
    problems = finding_problems(engagement, verdict, evidence, scope.get(found.service, ()))
    attachment, problem = await read_attachment(form.get("attachment"), attachment_limit(settings))
    problems += [problem] if problem else []
    if problems:
        return audit_page(request, storage, settings, user, found, problems, status_code=400)
    _ = i18n.translations(page_language(request)).gettext
    title = _(audit_labels.ACTION_TITLE) % {"audit": audit_id, "engagement": engagement}
    with storage.write() as connection:
        finding_id, action_id = internal_audits.record_finding(
            connection, found, engagement, verdict, evidence, by=user.username, title=title,
            attachment=attachment,
        )  # fmt: skip
        actor = audit.by_user(user)
        details = {"audit": audit_id, "engagement": engagement, "verdict": verdict,
                   "attachment": attachment[0] if attachment else None}  # fmt: skip
        audit.record(connection, actor, "internal_audit.finding_recorded", str(finding_id), details)
        if action_id is not None:
            proposed = {"origin": "internal_audit", "services": [found.service],
                        "engagement": engagement}  # fmt: skip
            audit.record(connection, actor, "action.proposed", str(action_id), proposed)
    return RedirectResponse(f"/audits/{audit_id}", status_code=303)


async def read_attachment(
    upload: object, limit: int
) -> tuple[tuple[str, bytes] | None, str | None]:
    """The file joined to a finding, if any: (kind, content), or the problem with it."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None, None
    content = await upload.read(limit + 1)
    if not content:
        return None, None
    if len(content) > limit:
        return None, N_("Le fichier joint est trop volumineux.")
    kind = attachment_kind(content)
    if kind is None:
        return None, N_("Le fichier joint doit être un PDF, une image PNG ou une photo JPEG.")
    return (kind, content), None


def finding_problems(
    engagement: str, verdict: str, evidence: str, applying: tuple[str, ...]
) -> list[str]:
    problems: list[str] = []
    if engagement not in applying:
        problems.append(N_("Choisissez un engagement qui s'applique au service audité."))
    if verdict not in VERDICTS:
        problems.append(N_("Choisissez la nature du constat."))
    if not evidence:
        problems.append(N_("Décrivez ce qui a été constaté (les preuves)."))
    elif len(evidence) > MAX_EVIDENCE:
        problems.append(N_("Le constat est trop long."))
    return problems


def report_context(storage: Storage, settings: Settings, found: Audit) -> dict[str, Any]:
    """What the audit report's template shows: the audit, its findings and their engagements."""
    with storage.read() as connection:
        findings = internal_audits.findings(connection, found.id)
        engagements = {e.code: e for e in referential.engagements(connection)}
        town_name = town.town_name(connection) or ""
    return {
        "audit": found,
        "findings": findings,
        "engagements": engagements,
        "service_name": _names(storage).get(found.service, found.service),
        "town": town_name,
        "statuses": audit_labels.AUDIT_STATUSES,
        "verdicts": audit_labels.VERDICTS,
        "town_zone": ZoneInfo(settings.timezone),
    }


@router.get("/audits/{audit_id}/report.pdf")
async def audit_report(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: InternalAuditReader,
    audit_id: int,
) -> Response:
    """The audit and its findings as a PDF, laid out in the app's worker process."""
    found = await run_in_threadpool(_found, storage, audit_id, user)
    if found is None:
        return forbidden(request, user)
    language = page_language(request)
    context = await run_in_threadpool(report_context, storage, settings, found)
    body = await build_pdf(request, report_html(language, context), language)
    await run_in_threadpool(
        record_download, request, storage, user, "report.downloaded", "internal_audit",
        {"audit": audit_id},
    )  # fmt: skip
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="audit-interne-{audit_id}.pdf"'},
    )


@router.get("/audits/{audit_id}/attachments/{attachment_id}")
def attachment(
    request: Request,
    storage: StorageDep,
    user: InternalAuditReader,
    audit_id: int,
    attachment_id: int,
) -> Response:
    """A finding's file, only to those who read the audit: downloaded, never shown in place."""
    found = _found(storage, audit_id, user)
    if found is None:
        return forbidden(request, user)
    with storage.read() as connection:
        stored = internal_audits.attachment_content(connection, audit_id, attachment_id)
    if stored is None:
        return Response(status_code=404)
    kind, content = stored
    name = f"audit-{audit_id}-piece-{attachment_id}.{'jpg' if kind == 'jpeg' else kind}"
    return Response(
        content,
        media_type=MEDIA_TYPES[kind],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
