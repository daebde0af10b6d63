"""Plain values returned by storage, so callers never see rows or SQL types."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

DeviceMode = Literal["kiosk", "tablet"]
Role = Literal["quality_manager", "service_manager", "admin", "internal_auditor"]
ROLES: tuple[Role, ...] = ("quality_manager", "service_manager", "admin", "internal_auditor")


@dataclass(frozen=True)
class Site:
    slug: str
    name: str


@dataclass(frozen=True)
class Service:
    slug: str
    name: str
    wait_threshold_minutes: int
    # ({"slug": …, "label": …}, …): the agent tablet's reason-for-visit chips.
    visit_reasons: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class Desk:
    site: Site
    service: Service
    # {"mon": [["08:30", "12:00"], …], …} in the town's local time; None: always open.
    opening_hours: dict[str, list[list[str]]] | None = None


@dataclass(frozen=True)
class Device:
    id: str
    name: str
    site: str
    service: str
    mode: DeviceMode
    enrolled_at: datetime | None
    revoked_at: datetime | None
    last_seen_at: datetime | None
    app_version: str | None
    clock_offset_ms: int | None
    # Set while the clock is beyond the allowed drift: the latest offset, and since when.
    clock_drift_ms: int | None = None
    clock_drift_since: datetime | None = None
    token_rotated_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def drifting(self) -> bool:
        return self.clock_drift_since is not None


@dataclass(frozen=True)
class EnrolCode:
    """A device waiting for its first contact; `code` is shown once and stored hashed."""

    device_id: str
    code: str
    expires_at: datetime


@dataclass(frozen=True)
class Enrolment:
    """A device that just enrolled; `token` is shown once and stored hashed.

    `visit_link_secret` signs the tablet's per-visit phone links; the server keeps it in clear
    because it must check them (it authenticates nothing else)."""

    device: Device
    token: str
    visit_link_secret: str | None = None


@dataclass(frozen=True)
class Source:
    """Who delivered a batch: an enrolled device, or the phone survey (no device)."""

    site: str
    service: str
    channel: Literal["kiosk", "tablet", "phone"]
    device_id: str | None = None


@dataclass(frozen=True)
class User:
    """A dashboard account; what its role may do is the table of `sync_server.access`."""

    username: str
    role: Role
    services: list[str] = field(default_factory=list)
    # Signed in with a password an administrator chose: only the own-password page opens.
    must_change_password: bool = False


@dataclass(frozen=True)
class ApiToken:
    """A personal API token as its owner sees it; the secret itself is never stored."""

    id: int
    username: str
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class IssuedApiToken:
    """A token just created; `secret` is shown once to its owner and stored only hashed."""

    token: ApiToken
    secret: str


@dataclass(frozen=True)
class QuarantinedRecord:
    record_id: str
    device_id: str | None
    existing_hash: str
    payload_hash: str
    payload: str
    received_at: datetime


@dataclass(frozen=True)
class LevelCount:
    """How many answers at one level of a desk's main question (level None = no opinion)."""

    site: str
    service: str
    level: int | None
    levels: int | None
    count: int


@dataclass(frozen=True)
class DeviceStatus:
    """A device's last heartbeat, as it reported itself."""

    received_at: datetime
    app_version: str
    backlog: int
    oldest_unsent_age_seconds: float | None
    held_records: int
    last_error: str | None
    last_error_code: str | None
    disk_free_bytes: int | None
    battery_percent: float | None
    device_clock_offset_ms: int | None  # the device's own estimate
    clock_offset_ms: int | None  # the server's estimate from this heartbeat


@dataclass(frozen=True)
class QuarantineSummary:
    """Conflicting records kept aside: how many payloads, and the record ids they claim."""

    count: int = 0
    record_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DeviceHealth:
    """One line of the fleet view: the device, its last heartbeat, and what needs a human."""

    device: Device
    status: DeviceStatus | None
    silent: bool
    quarantine: QuarantineSummary


# -- the quality manager's records and the period counts -------------------------------------


@dataclass(frozen=True)
class TargetChange:
    indicator: str
    service: str | None  # None: the town-wide target
    value: float
    valid_from: date
    set_by: str
    set_at: datetime


@dataclass(frozen=True)
class RegisterEntry:
    """A comment as the register shows it; `status` is "new" until someone handles it."""

    id: int
    text: str
    flagged: bool
    question_id: str | None
    site: str
    service: str
    received_at: datetime
    main_level: int | None
    main_levels: int | None
    category: str | None
    status: str
    acknowledged_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    reply: str | None
    # When the text and the reply were emptied at the end of their retention (`retention.py`).
    purged_at: datetime | None = None
    # Who did each step (None: not done, or done before the register kept its author).
    acknowledged_by: str | None = None
    answered_by: str | None = None
    closed_by: str | None = None
    # Whether the visitor left contact details to be answered (what they are: `RegisterContact`,
    # read only for the people who answer).
    contact_left: bool = False
    # The quality manager's decision on a comment triage flagged ("released", "kept_hidden"),
    # by whom and when; None: not reviewed (`storage/triage.py`).
    review: str | None = None
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None


@dataclass(frozen=True)
class RegisterContact:
    """A phone number (ten digits) and/or e-mail address a visitor left, with consent, to be
    answered about one register entry."""

    comment_id: int
    phone: str | None
    email: str | None
    language: str
    consented_at: datetime
    retention_days: int


@dataclass(frozen=True)
class ImprovementAction:
    """An action of the plan as the annual review lists it: one per service it is for."""

    year: int
    service: str
    indicator: str
    action: str
    recorded_by: str
    recorded_at: datetime
    id: int = 0
    status: str = "validated"


@dataclass(frozen=True)
class ScopeService:
    """A service as the certified scope shows it: its phase (None: outside the scope), since
    when, and the engagements of the referential that apply to it, by code."""

    slug: str
    name: str
    phase: int | None
    since: str | None
    engagements: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanAction:
    """An improvement action of the plan (`sync_server.cycle.plan` for its statuses)."""

    id: int
    title: str
    origin: str
    status: str
    services: tuple[str, ...]
    engagement: str | None
    indicator: str | None
    site: str | None
    owner: str | None
    due_on: date | None
    year: int | None
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    validated_by: str | None = None
    validated_at: datetime | None = None
    done_at: datetime | None = None


@dataclass(frozen=True)
class ItemCount:
    """Answers to one follow-up question with one chosen value, at one desk."""

    site: str
    service: str
    survey_id: str
    survey_version: int
    question_id: str
    value: str
    count: int


@dataclass(frozen=True)
class AnswerQuality:
    """Answers at one desk by completeness and suspicion (suspect ones included here)."""

    site: str
    service: str
    partial: bool
    suspect: bool
    count: int
