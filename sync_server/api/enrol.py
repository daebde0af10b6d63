"""`POST /api/v1/enrol`: a device trades its one-time code for a long-lived token (the
enrolment is in the audit trail; neither the code nor the token)."""

from __future__ import annotations

from fastapi import APIRouter

from qualivilles.device_config import EnrolmentReply, EnrolmentRequest
from sync_server.api.deps import StorageDep
from sync_server.api.problems import ApiError
from sync_server.storage import InvalidEnrolCode, audit, devices

router = APIRouter(prefix="/api/v1", tags=["device"])


@router.post(
    "/enrol",
    response_model=EnrolmentReply,
    responses={400: {"description": "`invalid_enrol_code`: unknown, used or expired code"}},
)
def enrol(body: EnrolmentRequest, storage: StorageDep) -> EnrolmentReply:
    """Exchange the code printed by `sync-server enrol-device`; the token is shown only once."""
    try:
        with storage.write() as connection:
            enrolment = devices.enrol(connection, body.code, body.app_version)
            enrolled = enrolment.device
            details = {"site": enrolled.site, "service": enrolled.service, "mode": enrolled.mode}
            actor = audit.by_device(enrolled.id)
            audit.record(connection, actor, "device.enrolled", enrolled.id, details)
    except InvalidEnrolCode as error:
        raise ApiError(400, "invalid_enrol_code", "Invalid enrolment code", str(error)) from None
    device = enrolment.device
    return EnrolmentReply(
        device_id=device.id,
        token=enrolment.token,
        site=device.site,
        service=device.service,
        mode=device.mode,
        name=device.name,
        visit_link_secret=enrolment.visit_link_secret,
    )
