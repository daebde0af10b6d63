"""`POST /api/v1/sync`: a device uploads a batch of records and gets one ack per record."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Header

from kiosk.core.protocol import SyncRequest, SyncResponse
from sync_server.api.deps import DeviceDep, StorageDep
from sync_server.storage import Source

router = APIRouter(prefix="/api/v1", tags=["device"])


def clock_offset_ms(sent_at: datetime, received_at: datetime) -> int | None:
    """Server time minus device time at sending (network delay included, a few ms on a LAN)."""
    if sent_at.tzinfo is None:
        return None
    return round((received_at - sent_at).total_seconds() * 1000)


def app_version(x_app_version: str | None, user_agent: str | None) -> str | None:
    """The kiosk's version from `X-App-Version`, else from a `qualivilles-kiosk/1.2` user agent."""
    if x_app_version:
        return x_app_version[:50]
    product, _, version = (user_agent or "").partition(" ")[0].partition("/")
    return version[:50] if product == "qualivilles-kiosk" and version else None


@router.post("/sync", response_model=SyncResponse)
def sync(
    body: SyncRequest,
    device: DeviceDep,
    storage: StorageDep,
    user_agent: str | None = Header(default=None),
    x_app_version: str | None = Header(default=None),
) -> SyncResponse:
    """Store the records (idempotent on id); the device forgets only records acked stored or
    duplicate."""
    received_at = datetime.now(UTC)
    source = Source(
        site=device.site, service=device.service, channel=device.mode, device_id=device.id
    )
    acks = storage.ingest(
        body.records,
        source,
        received_at=received_at,
        app_version=app_version(x_app_version, user_agent),
        clock_offset_ms=clock_offset_ms(body.sent_at, received_at),
    )
    return SyncResponse(received_at=received_at, acknowledged=acks)
