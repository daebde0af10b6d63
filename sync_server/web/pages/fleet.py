"""The device fleet for the administrator and the quality manager (`storage.health.fleet`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sync_server.api.deps import SettingsDep, StorageDep
from sync_server.storage import health
from sync_server.web.access import FleetWatcher, nav_context
from sync_server.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/fleet")
def fleet_page(
    request: Request, storage: StorageDep, settings: SettingsDep, user: FleetWatcher
) -> Response:
    now = datetime.now(UTC)
    with storage.read() as connection:
        fleet = health.fleet(connection, now, timedelta(hours=settings.silent_after_hours))
    # Silent devices first: they are what someone has to walk to.
    fleet.sort(key=lambda h: (not h.silent, h.device.site, h.device.service, h.device.name))
    context = {
        **nav_context(request, user),
        "fleet": fleet,
        "now": now,
        "silent": sum(h.silent for h in fleet),
        "silent_hours": settings.silent_after_hours,
    }
    return render(request, "fleet.html", context)
