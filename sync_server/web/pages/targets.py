"""Targets per indicator and service, editable by the quality manager; a change applies from a
date on and never rewrites the periods before it; each change is in the audit trail with the
value it replaces."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sync_server.api.deps import SettingsDep, StorageDep
from sync_server.indicators.targets import INDICATORS
from sync_server.settings import Settings
from sync_server.storage import Storage, User, audit, quality, town
from sync_server.web import labels
from sync_server.web.access import TargetForm, TargetSetter, nav_context
from sync_server.web.figures import today
from sync_server.web.templating import render

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    storage: Storage,
    settings: Settings,
    user: User,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    with storage.read() as connection:
        desks = town.desks(connection)
        history = quality.target_history(connection)
    context = {
        **nav_context(request, user),
        "indicators": {k: labels.INDICATOR_NAMES[k] for k in INDICATORS},
        "units": {k: spec.unit for k, spec in INDICATORS.items()},
        "services": {d.service.slug: d.service.name for d in desks},
        "history": history,
        "default_target": settings.target_satisfaction_rate,
        "today": today(settings).isoformat(),
        "error": error,
    }
    return render(request, "targets.html", context, status_code=status_code)


@router.get("/targets")
def targets_page(
    request: Request, storage: StorageDep, settings: SettingsDep, user: TargetSetter
) -> Response:
    return _page(request, storage, settings, user)


@router.post("/targets")
async def set_target(
    request: Request, storage: StorageDep, settings: SettingsDep, posted: TargetForm
) -> Response:
    user, form = posted
    indicator = str(form.get("indicator") or "")
    service = str(form.get("service") or "") or None
    with storage.read() as connection:
        services = {d.service.slug for d in town.desks(connection)}
    try:
        value = float(str(form.get("value") or "").replace(",", "."))
        valid_from = date.fromisoformat(str(form.get("valid_from") or ""))
    except ValueError:
        value, valid_from = -1.0, None
    spec = INDICATORS.get(indicator)
    limit = 100 if spec and spec.unit in ("%",) else (10 if spec and spec.unit == "/10" else 1000)
    low = -100 if spec and spec.unit == "pts" else 0
    if (
        spec is None
        or (service is not None and service not in services)
        or valid_from is None
        or not low <= value <= limit
    ):
        return _page(request, storage, settings, user, error="invalid", status_code=400)
    with storage.write() as connection:
        before = quality.targets_on(connection, valid_from).get((indicator, service))
        quality.set_target(
            connection,
            indicator=indicator,
            service=service,
            value=value,
            valid_from=valid_from,
            set_by=user.username,
        )
        details = {
            "service": service,
            "valid_from": valid_from.isoformat(),
            "value": audit.change(before, value),
        }
        audit.record(connection, audit.by_user(user), "target.set", indicator, details)
    return RedirectResponse("/targets?saved=1", status_code=303)
