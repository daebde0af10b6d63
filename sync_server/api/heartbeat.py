"""`POST /api/v1/heartbeat`: how a device is doing (backlog, errors, disk, battery, clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter

from qualivilles.protocol import Heartbeat, HeartbeatAck
from sync_server import clock
from sync_server.api.deps import DeviceDep, SettingsDep, StorageDep
from sync_server.storage import health

router = APIRouter(prefix="/api/v1", tags=["device"])


@router.post("/heartbeat", response_model=HeartbeatAck)
def heartbeat(
    body: Heartbeat, device: DeviceDep, storage: StorageDep, settings: SettingsDep
) -> HeartbeatAck:
    """Keep the device's last state and history; `received_at` lets it estimate its offset."""
    received_at = datetime.now(UTC)
    # Beside uploads and other heartbeats, without the lock staff changes take (keyed writes).
    with storage.append() as connection:
        health.record_heartbeat(
            connection,
            device.id,
            body,
            received_at=received_at,
            clock_offset_ms=clock.offset_ms(body.sent_at, received_at),
            max_drift_ms=settings.max_clock_drift_seconds * 1000,
            retention=timedelta(days=settings.heartbeat_retention_days),
        )
    return HeartbeatAck(received_at=received_at)
