"""`GET /api/v1/config`: what a device needs to run, versioned by content hash (ETag)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from qualivilles.device_config import (
    DeviceConfig,
    DeviceInfo,
    KioskSettings,
    ServiceInfo,
    SiteInfo,
    VisitReason,
)
from sync_server.api.deps import DeviceDep, SettingsDep, StorageDep
from sync_server.api.problems import ApiError
from sync_server.indicators import periods, pipeline
from sync_server.indicators.query import SATISFACTION, IndicatorQuery, Rules, Scope
from sync_server.settings import Settings
from sync_server.storage import Device, Storage, config_inputs, surveys, town

router = APIRouter(prefix="/api/v1", tags=["device"])


def last_month(settings: Settings, now: datetime) -> periods.Period:
    """The month whose results the kiosk shows: the town's last complete one."""
    return periods.default_period("month", now.astimezone(ZoneInfo(settings.timezone)).date())


def published_results(
    storage: Storage, settings: Settings, site: str, service: str, now: datetime
) -> dict[str, Any] | None:
    """Last complete month's overall satisfaction at this desk, or None below the minimum N."""
    month = last_month(settings, now)
    query = IndicatorQuery(
        month, Scope.of([site], [service]), Rules.from_settings(settings), SATISFACTION
    )
    rows = pipeline.compute(storage, query)
    if not rows:
        return None
    rate = rows[0].figures["satisfaction_rate"]
    if rate.hidden or rate.value is None:
        return None
    return {
        "period": rows[0].period,
        "satisfaction_rate": round(rate.value, 1),
        "answers": rate.n,
        "target": rate.target,
    }


def device_config(
    storage: Storage, settings: Settings, device: Device, now: datetime
) -> DeviceConfig:
    """The device's configuration, versioned by the hash of its content."""
    with storage.read() as connection:
        desk = town.desk(connection, device.site, device.service)
        survey = surveys.current(connection)
    if desk is None:
        raise ApiError(409, "unknown_desk", "Unknown desk", f"{device.site}/{device.service}")
    base = settings.public_base_url.rstrip("/")
    return DeviceConfig(
        device=DeviceInfo(id=device.id, name=device.name, mode=device.mode),
        site=SiteInfo(slug=desk.site.slug, name=desk.site.name),
        service=ServiceInfo(
            slug=desk.service.slug,
            name=desk.service.name,
            wait_threshold_minutes=desk.service.wait_threshold_minutes,
            visit_reasons=tuple(VisitReason(**reason) for reason in desk.service.visit_reasons),
        ),
        survey=survey,
        phone_survey_url=f"{base}/s/{desk.site.slug}/{desk.service.slug}",
        public_base_url=base,
        kiosk=KioskSettings(
            follow_up_seconds=settings.kiosk_follow_up_seconds,
            inactivity_timeout_seconds=settings.kiosk_inactivity_timeout_seconds,
            suspect_interval_seconds=settings.kiosk_suspect_interval_seconds,
            thank_you_seconds=settings.kiosk_thank_you_seconds,
            languages=tuple(survey.languages),
            opening_hours=desk.opening_hours,
            timezone=settings.timezone,
        ),
        published_results=published_results(
            storage, settings, desk.site.slug, desk.service.slug, now
        ),
    ).versioned()


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    candidates = {part.strip().removeprefix("W/") for part in header.split(",")}
    return etag in candidates or "*" in candidates


@dataclass(frozen=True)
class Built:
    """A configuration as sent, with the stamp of what it was built from."""

    stamp: str
    etag: str
    body: dict[str, Any]


def built_configs(request: Request) -> dict[str, Built]:
    """This process's last configuration built for each device (made on first use)."""
    state = request.app.state
    if getattr(state, "device_configs", None) is None:
        state.device_configs = {}
    return state.device_configs


def current_config(
    request: Request, storage: Storage, settings: Settings, device: Device, now: datetime
) -> Built:
    """The device's configuration, built again only when what it is built from has changed
    (a kiosk asks after every batch; the answer is nearly always "unchanged")."""
    month = last_month(settings, now)
    desk = config_inputs.stamp(storage, device.site, device.service, (month.start, month.end))
    stamp = repr((device.name, device.mode, month.key, desk))
    built = built_configs(request)
    found = built.get(device.id)
    if desk is not None and found is not None and found.stamp == stamp:
        return found
    document = device_config(storage, settings, device, now)
    fresh = Built(stamp, f'"{document.config_version}"', document.model_dump(mode="json"))
    built[device.id] = fresh
    return fresh


@router.get(
    "/config",
    responses={
        200: {
            "model": DeviceConfig,
            "description": "The device's configuration; `ETag` is its content hash",
        },
        304: {"description": "Unchanged since the `If-None-Match` ETag"},
        409: {"description": "`unknown_desk`: the device's desk is no longer in the town"},
    },
)
def config(
    request: Request, device: DeviceDep, storage: StorageDep, settings: SettingsDep
) -> Response:
    """Settings and survey definition for this device's desk; fetch with `If-None-Match`."""
    built = current_config(request, storage, settings, device, datetime.now(UTC))
    headers = {"ETag": built.etag, "Cache-Control": "no-cache"}
    if _etag_matches(request.headers.get("if-none-match"), built.etag):
        return Response(status_code=304, headers=headers)
    return JSONResponse(built.body, headers=headers)
