"""`GET /api/v1/health`: the fleet for an administrator or the quality manager."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter

from sync_server.api.answers import HealthAnswer
from sync_server.api.deps import FleetUserDep, SettingsDep, StorageDep
from sync_server.storage import DeviceHealth, QuarantineSummary
from sync_server.storage import health as fleet_health

router = APIRouter(prefix="/api/v1", tags=["operations"])


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def quarantine_json(summary: QuarantineSummary) -> dict[str, Any]:
    return {"count": summary.count, "record_ids": summary.record_ids}


def device_health_json(item: DeviceHealth) -> dict[str, Any]:
    """One device of the health view as JSON (times in ISO 8601, UTC)."""
    device, status = item.device, item.status
    last_heartbeat = None
    if status is not None:
        last_heartbeat = {**asdict(status), "received_at": _time(status.received_at)}
    return {
        "id": device.id,
        "name": device.name,
        "site": device.site,
        "service": device.service,
        "mode": device.mode,
        "enrolled_at": _time(device.enrolled_at),
        "revoked_at": _time(device.revoked_at),
        "last_seen_at": _time(device.last_seen_at),
        "app_version": device.app_version,
        "silent": item.silent,
        "clock": {
            "offset_ms": device.clock_offset_ms,
            "drifting": device.drifting,
            "drift_ms": device.clock_drift_ms,
            "drifting_since": _time(device.clock_drift_since),
        },
        "last_heartbeat": last_heartbeat,
        "quarantine": quarantine_json(item.quarantine),
    }


@router.get("/health", response_model=None, responses={200: {"model": HealthAnswer}})
def health(storage: StorageDep, settings: SettingsDep, user: FleetUserDep) -> dict[str, Any]:
    """Per device: last state, silent and drift flags, quarantined conflicts; and all conflicts
    (the phone survey's too) so a human can resolve them."""
    now = datetime.now(UTC)
    with storage.read() as connection:
        fleet = fleet_health.fleet(connection, now, timedelta(hours=settings.silent_after_hours))
        quarantine = fleet_health.quarantine_summary(connection)
    return {
        "generated_at": now.isoformat(),
        "silent_after_hours": settings.silent_after_hours,
        "max_clock_drift_seconds": settings.max_clock_drift_seconds,
        "devices": [device_health_json(item) for item in fleet],
        "quarantine": quarantine_json(quarantine),
    }
