"""`POST /api/v1/enrol`: a device trades its one-time code for a long-lived token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, StringConstraints

from sync_server.api.deps import StorageDep
from sync_server.api.problems import ApiError
from sync_server.storage import InvalidEnrolCode, devices

router = APIRouter(prefix="/api/v1", tags=["device"])


class EnrolRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(min_length=4, max_length=64)]
    app_version: Annotated[str, StringConstraints(max_length=50)] | None = None


class EnrolResponse(BaseModel):
    device_id: str
    token: str
    site: str
    service: str
    mode: str
    name: str
    # Signs per-visit phone links made offline (see sync_server/phone/visit_links.py).
    visit_link_secret: str | None = None


@router.post(
    "/enrol",
    response_model=EnrolResponse,
    responses={400: {"description": "invalid_enrol_code: unknown, used or expired code"}},
)
def enrol(body: EnrolRequest, storage: StorageDep) -> EnrolResponse:
    """Exchange the code printed by `sync-server enrol-device`; the token is shown only once."""
    try:
        with storage.write() as connection:
            enrolment = devices.enrol(connection, body.code, body.app_version)
    except InvalidEnrolCode as error:
        raise ApiError(400, "invalid_enrol_code", "Invalid enrolment code", str(error)) from None
    device = enrolment.device
    return EnrolResponse(
        device_id=device.id,
        token=enrolment.token,
        site=device.site,
        service=device.service,
        mode=device.mode,
        name=device.name,
        visit_link_secret=enrolment.visit_link_secret,
    )
