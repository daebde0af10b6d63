"""`POST /api/v1/sync`: a device uploads a batch of records and gets one ack per record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Request

from qualivilles.protocol import SyncResponse
from sync_server import clock
from sync_server.api.batch import Batch, parse_body
from sync_server.api.deps import DeviceDep, SettingsDep, StorageDep
from sync_server.storage import Source, projection, uploads

router = APIRouter(prefix="/api/v1", tags=["device"])


def app_version(x_app_version: str | None, user_agent: str | None) -> str | None:
    """The kiosk's version from `X-App-Version`, else from a `qualivilles-kiosk/1.2` user agent."""
    if x_app_version:
        return x_app_version[:50]
    product, _, version = (user_agent or "").partition(" ")[0].partition("/")
    return version[:50] if product == "qualivilles-kiosk" and version else None


async def uploaded_batch(request: Request) -> Batch:
    """The body read record by record (see `api/batch.py`), after the device was authenticated."""
    return parse_body(await request.body())


BatchDep = Annotated[Batch, Depends(uploaded_batch)]

# The body is read by `uploaded_batch`, not by FastAPI, so its schema is declared here.
SYNC_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SyncRequest"}}},
    }
}


@router.post("/sync", response_model=SyncResponse, openapi_extra=SYNC_REQUEST_BODY)
def sync(
    background: BackgroundTasks,
    device: DeviceDep,
    batch: BatchDep,
    storage: StorageDep,
    settings: SettingsDep,
    user_agent: str | None = Header(default=None),
    x_app_version: str | None = Header(default=None),
) -> SyncResponse:
    """Store the records (idempotent on id); the device forgets only records acked stored or
    duplicate. A malformed record is rejected alone; the others are stored."""
    received_at = datetime.now(UTC)
    source = Source(
        site=device.site, service=device.service, channel=device.mode, device_id=device.id
    )
    stored = uploads.store_batch(
        storage,
        batch.records,
        source,
        received_at=received_at,
        app_version=app_version(x_app_version, user_agent),
        clock_offset_ms=clock.offset_ms(batch.sent_at, received_at),
        max_drift_ms=settings.max_clock_drift_seconds * 1000,
        max_offset_ms=settings.max_clock_offset_ms,
        window=settings.record_window(received_at, device.enrolled_at),
        project=False,
    )
    # The device may forget what is in the log: the figures follow once the reply is sent (by
    # this process, or by the one projecting already; a page read meanwhile says it is behind).
    background.add_task(projection.catch_up, storage)
    return SyncResponse(received_at=received_at, acknowledged=batch.acks(stored))
