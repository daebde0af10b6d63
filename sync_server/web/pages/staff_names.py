"""The agents' names of each service, which triage looks for in the visitors' comments: a
comment naming one is the quality manager's to read first. The quality manager keeps the lists
(one name a line, "Prénom Nom"); each change is in the audit trail with the number of names
before and after, never the names (the trail is kept for good, an agent who leaves is not).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sync_server.api.deps import StorageDep
from sync_server.storage import Storage, User, audit, town
from sync_server.storage import triage as triage_storage
from sync_server.web.access import StaffNamesForm, StaffNamesReader, nav_context
from sync_server.web.templating import render

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    storage: Storage,
    user: User,
    *,
    done: str | None = None,
    problem: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    with storage.read() as connection:
        services = {d.service.slug: d.service.name for d in town.desks(connection)}
        names = triage_storage.staff_names(connection)
    context = {
        **nav_context(request, user),
        "services": dict(sorted(services.items(), key=lambda item: item[1])),
        "names": names,
        "done": done,
        "problem": problem,
        "max_names": triage_storage.MAX_NAMES_PER_SERVICE,
        "max_length": triage_storage.MAX_NAME_LENGTH,
    }
    return render(request, "staff_names.html", context, status_code=status_code)


@router.get("/staff-names")
def staff_names_page(
    request: Request, storage: StorageDep, user: StaffNamesReader, done: str | None = None
) -> Response:
    return _page(request, storage, user, done=done)


@router.post("/staff-names")
async def set_staff_names(
    request: Request, storage: StorageDep, posted: StaffNamesForm
) -> Response:
    user, form = posted
    service = str(form.get("service") or "")
    typed = str(form.get("names") or "")
    with storage.read() as connection:
        known = {d.service.slug for d in town.desks(connection)}
    if service not in known:
        return _page(request, storage, user, problem={"code": "unknown_service"}, status_code=400)
    try:
        names = triage_storage.clean_names(typed.splitlines())
    except triage_storage.BadNames:
        problem = {"code": "bad_names", "service": service, "names": typed}
        return _page(request, storage, user, problem=problem, status_code=400)
    with storage.write() as connection:
        before, after = triage_storage.set_staff_names(connection, service, names, by=user.username)
        details = {"service": service, "names": audit.change(before, after)}
        audit.record(connection, audit.by_user(user), "triage.names_changed", service, details)
    return RedirectResponse(f"/staff-names?done={service}#s-{service}", status_code=303)
