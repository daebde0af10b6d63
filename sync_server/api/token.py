"""`POST /api/v1/token/rotate`: a device replaces its token without ever being locked out."""

from __future__ import annotations

from fastapi import APIRouter

from qualivilles.protocol import TokenRotation
from sync_server.api.deps import DeviceDep, StorageDep
from sync_server.storage import devices

router = APIRouter(prefix="/api/v1", tags=["device"])


@router.post("/token/rotate", response_model=TokenRotation)
def rotate(device: DeviceDep, storage: StorageDep) -> TokenRotation:
    """The new token is shown once; the current one works until the new one is first used."""
    with storage.write() as connection:
        return TokenRotation(token=devices.rotate(connection, device.id))
