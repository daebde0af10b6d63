"""Storage: the only package that talks SQL.

Start with `migrations.upgrade(Storage.from_url(url))`; then open a transaction and call the
module that holds what you need, e.g. `with storage.read() as c: devices.get(c, device_id)`:

- `town` (sites, services, desks), `surveys`, `devices`, `users`, `api_tokens`, `visit_links`;
- `config_inputs` (the stamp that tells a device's configuration changed);
- `sessions` (dashboard sign-ins), `login_failures` (what throttles the login page);
- `leases` (one runner at a time among the server processes), `phone_limits` (the phone
  survey's abuse counters, shared by every process), `salts` (the daily salts of their hashes
  and of the sign-in failures');
- `audit` (who did what and when: the append-only audit trail);
- `uploads` (a device's batch, a phone answer), `projection` (the figures' tables from the log);
- `counts` (answer counts), `visits` (visits and waits), `exports`, `quality` (targets, comments
  register, the annual review's actions), `triage` (agents' names, reviews of flagged
  comments), `health` (heartbeats, fleet, quarantine), `alerts`;
- `referential` (engagements, certified scope, indicators tied to engagements), `plan` (the
  improvement actions);
- `retention` (the purge of what is past its retention period, every figure kept);
- `migrations`, `schema`, `db` (engines and transactions), `rollups` (the daily rollups' upkeep).
"""

from sqlalchemy.engine import Connection

from sync_server.storage import (
    alerts,
    api_tokens,
    audit,
    config_inputs,
    counts,
    db,
    devices,
    exports,
    health,
    leases,
    login_failures,
    migrations,
    plan,
    projection,
    quality,
    referential,
    retention,
    rollups,
    schema,
    sessions,
    surveys,
    town,
    triage,
    uploads,
    users,
    visit_links,
    visits,
)
from sync_server.storage.errors import (
    InvalidEnrolCode,
    InvalidTown,
    StorageError,
    SurveyVersionChanged,
    UnknownDesk,
    UnknownDevice,
    UserExists,
    VisitLinkUsed,
)
from sync_server.storage.models import (
    ApiToken,
    Desk,
    Device,
    DeviceHealth,
    DeviceStatus,
    EnrolCode,
    Enrolment,
    IssuedApiToken,
    LevelCount,
    QuarantinedRecord,
    QuarantineSummary,
    RegisterEntry,
    Service,
    Site,
    Source,
    User,
)
from sync_server.storage.transactions import Storage

__all__ = [
    "ApiToken",
    "Connection",
    "Desk",
    "Device",
    "DeviceHealth",
    "DeviceStatus",
    "EnrolCode",
    "Enrolment",
    "InvalidEnrolCode",
    "InvalidTown",
    "IssuedApiToken",
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
    "VisitLinkUsed",
    "alerts",
    "api_tokens",
    "audit",
    "config_inputs",
    "counts",
    "db",
    "devices",
    "exports",
    "health",
    "leases",
    "login_failures",
    "migrations",
    "plan",
    "projection",
    "quality",
    "referential",
    "retention",
    "rollups",
    "schema",
    "sessions",
    "surveys",
    "town",
    "triage",
    "uploads",
    "users",
    "visit_links",
    "visits",
]
