"""Storage: the only package that talks SQL. Start with `Storage.from_url(url).migrate()`."""

from sync_server.storage.core import Storage
from sync_server.storage.errors import (
    InvalidEnrolCode,
    InvalidTown,
    StorageError,
    SurveyVersionChanged,
    UnknownDesk,
    UnknownDevice,
    UserExists,
)
from sync_server.storage.models import (
    Desk,
    Device,
    DeviceHealth,
    DeviceStatus,
    EnrolCode,
    Enrolment,
    LevelCount,
    QuarantinedRecord,
    QuarantineSummary,
    RegisterEntry,
    Service,
    Site,
    Source,
    User,
)

__all__ = [
    "Desk",
    "Device",
    "DeviceHealth",
    "DeviceStatus",
    "EnrolCode",
    "Enrolment",
    "InvalidEnrolCode",
    "InvalidTown",
    "LevelCount",
    "QuarantineSummary",
    "QuarantinedRecord",
    "RegisterEntry",
    "Service",
    "Site",
    "Source",
    "Storage",
    "StorageError",
    "SurveyVersionChanged",
    "UnknownDesk",
    "UnknownDevice",
    "User",
    "UserExists",
]
