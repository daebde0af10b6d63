"""The device ↔ server wire protocol: one definition shared by the kiosk and the server.

Both sides import these models so that what the kiosk sends and what the server accepts can
never drift apart: records and their payloads, batches and their acknowledgements, heartbeats,
token rotation and error answers here; the enrolment and the device configuration in
`qualivilles.device_config`. Neither side defines a wire model of its own. Pure: no Kivy, no
HTTP, no database.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

import uuid6
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

PROTOCOL_VERSION = 1
MAX_RECORDS_PER_BATCH = 500
MAX_COMMENT_LENGTH = 2000

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
ShortText = Annotated[str, StringConstraints(max_length=200)]


def new_record_id() -> str:
    """A time-ordered UUIDv7, so ids sort in capture order on both sides."""
    return str(uuid6.uuid7())


def canonical_json(payload: Any) -> str:
    """The one serialisation that is hashed: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def payload_hash(payload: Any) -> str:
    """SHA-256 of the canonical JSON; the same id with another hash is a conflict."""
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


class Strict(BaseModel):
    """Unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RecordKind(StrEnum):
    ANSWER = "answer"
    VISIT_EVENT = "visit_event"


class Channel(StrEnum):
    KIOSK = "kiosk"
    PHONE = "phone"
    TABLET = "tablet"


class ResponseStatus(StrEnum):
    COMPLETE = "complete"
    PARTIAL = "partial"


class AnswerPayload(Strict):
    """One visitor's response to one survey, sealed (complete or partial) before upload."""

    survey_id: Slug
    survey_version: int = Field(ge=1)
    channel: Channel
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")]
    status: ResponseStatus
    suspect: bool = False
    # question id -> choice id (or list of choice ids for multiple choice, int for 0-10 scales)
    answers: dict[Slug, str | int | list[str]]
    comment: Annotated[str, StringConstraints(max_length=MAX_COMMENT_LENGTH)] | None = None
    visit_id: UUID | None = None


class VisitEvent(StrEnum):
    ARRIVED = "arrived"
    TAKEN_IN_CHARGE = "taken_in_charge"
    WALKED_OUT = "walked_out"
    CANCELLED = "cancelled"
    CLOSED_UNKNOWN = "closed_unknown"


class VisitEventPayload(Strict):
    """One immutable event in a visit's life; the server folds events into the visit.

    Visits change over time (arrived, then taken in charge) but records never do: each change is
    a new record with its own id, so a late "taken in charge" never conflicts with the arrival.
    """

    visit_id: UUID
    event: VisitEvent
    ticket: Annotated[str, StringConstraints(max_length=16)] | None = None
    reason: Slug | None = None
    # Wait measured on the device's monotonic clock; absent when the clock was reset between
    # arrival and this event (a reboot), in which case the server uses corrected wall times.
    wait_seconds: float | None = Field(default=None, ge=0)
    # On a `cancelled` event (an agent's undo): the record id of the event taken back. Taking
    # back the arrival voids the visit; taking back a closing event puts the visit back in the
    # queue. A `cancelled` event without it voids the visit.
    cancels: UUID | None = None


class RecordIn(Strict):
    id: UUID
    kind: RecordKind
    payload_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    device_time: datetime
    monotonic_ms: int = Field(ge=0)
    payload: dict[str, Any]


class SyncEnvelope(Strict):
    """A `SyncRequest` with its records left unread: the server checks each record on its own,
    so that one malformed record never refuses the others."""

    protocol: Literal[1] = PROTOCOL_VERSION
    sent_at: datetime
    records: list[Any] = Field(max_length=MAX_RECORDS_PER_BATCH)


class SyncRequest(SyncEnvelope):
    """`POST /api/v1/sync`: a batch of records, in capture order."""

    records: list[RecordIn] = Field(max_length=MAX_RECORDS_PER_BATCH)


class AckStatus(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # already stored with the same hash: safe to forget
    CONFLICT = "conflict"  # same id, other hash: kept aside for a human, never overwrites
    REJECTED = "rejected"  # invalid record: retrying will not help


class Ack(Strict):
    id: UUID
    status: AckStatus
    code: str | None = None
    detail: str | None = None


class SyncResponse(Strict):
    protocol: Literal[1] = PROTOCOL_VERSION
    received_at: datetime
    acknowledged: list[Ack]


PAYLOAD_MODELS: dict[RecordKind, type[Strict]] = {
    RecordKind.ANSWER: AnswerPayload,
    RecordKind.VISIT_EVENT: VisitEventPayload,
}

# Acks after which the device may forget a record.
FORGETTABLE = frozenset({AckStatus.STORED, AckStatus.DUPLICATE})


class Heartbeat(Strict):
    """`POST /api/v1/heartbeat`: how the device is doing, sent after each sync pass."""

    sent_at: datetime
    app_version: Annotated[str, StringConstraints(max_length=64)]
    backlog: int = Field(ge=0)
    oldest_unsent_age_seconds: float | None = Field(default=None, ge=0)
    held_records: int = Field(default=0, ge=0)  # conflict/rejected, kept on the device
    last_error: Annotated[str, StringConstraints(max_length=500)] | None = None
    last_error_code: Annotated[str, StringConstraints(max_length=64)] | None = None
    disk_free_bytes: int | None = Field(default=None, ge=0)
    battery_percent: float | None = Field(default=None, ge=0, le=100)
    clock_offset_ms: int | None = None  # the device's own estimate, server minus device


class HeartbeatAck(Strict):
    received_at: datetime


class Problem(BaseModel):
    """An error answer (`application/problem+json`, RFC 9457): `code` is stable, act on it.

    Read tolerantly: what answers an error may be a proxy rather than the server."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    type: str = "about:blank"
    title: str = ""
    status: int | None = None
    code: str | None = None
    detail: str | None = None
    # Each invalid field of a request: {"path", "message", "type"}.
    errors: list[dict[str, Any]] | None = Field(default=None, exclude_if=lambda v: v is None)


class TokenRotation(Strict):
    """`POST /api/v1/token/rotate`: a new token for this device.

    The old token keeps working until the new one is first used, so a lost answer never locks
    the device out: it simply asks again with the old token.
    """

    token: Annotated[str, StringConstraints(min_length=20, max_length=200)]
