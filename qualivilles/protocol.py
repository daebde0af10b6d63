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
import math
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

import uuid6
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    Strict,
    StrictBool,
    StringConstraints,
    TypeAdapter,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

PROTOCOL_VERSION = 1
MAX_RECORDS_PER_BATCH = 500
MAX_COMMENT_LENGTH = 2000

# Bounds every field of the protocol keeps, so that what a device sends can always be stored,
# summed and written back as JSON (docs/sync.md, "Bounds").
MAX_SAFE_INTEGER = 2**53 - 1  # the largest integer a JSON number carries exactly everywhere
MAX_WAIT_SECONDS = 86_400  # a wait longer than a day is a clock or a device fault
_SURROGATE = re.compile("[\ud800-\udfff]")


def _scalar_text(value: str) -> str:
    """Valid Unicode scalar values only (a lone surrogate cannot be encoded), NUL removed."""
    if _SURROGATE.search(value):
        raise ValueError("the text holds a lone surrogate, which is not a Unicode character")
    return value.replace("\x00", "") if "\x00" in value else value


def _bounded_json(value: Any) -> Any:
    """Every number and string inside a JSON value within the protocol's bounds (unchanged:
    the payload is hashed as sent). Walked without recursion."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            _scalar_text(item)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                raise ValueError(f"integers must be within ±{MAX_SAFE_INTEGER} (2^53 - 1)")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise ValueError("numbers must be finite (no Infinity or NaN)")
        else:
            raise ValueError(f"not a JSON value: {type(item).__name__}")
    return value


# An integer JSON carries exactly: within ±(2^53 - 1). Strict: `true`, `"12"` and `12.5` are
# not integers (lax parsing would store `true` as 1).
SafeInt = Annotated[int, Strict(), Field(ge=-MAX_SAFE_INTEGER, le=MAX_SAFE_INTEGER)]
Count = Annotated[int, Strict(), Field(ge=0, le=MAX_SAFE_INTEGER)]
# A finite number: no Infinity, no NaN; an integer is a number, `true` and `"12"` are not.
Finite = Annotated[float, Strict(), Field(allow_inf_nan=False)]
WaitSeconds = Annotated[float, Strict(), Field(ge=0, le=MAX_WAIT_SECONDS, allow_inf_nan=False)]
# Text of valid Unicode scalar values, NUL removed.
SCALAR_TEXT = AfterValidator(_scalar_text)
Text = Annotated[str, SCALAR_TEXT]
# A JSON object whose every number and string is within the bounds above.
BoundedObject = Annotated[dict[str, Any], AfterValidator(_bounded_json)]

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$"), SCALAR_TEXT]
ShortText = Annotated[str, StringConstraints(max_length=200), SCALAR_TEXT]


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
    survey_version: Annotated[Count, Field(ge=1)]
    channel: Channel
    language: Annotated[
        str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$"), SCALAR_TEXT
    ]
    status: ResponseStatus
    suspect: StrictBool = False
    # question id -> choice id (or list of choice ids for multiple choice, int for 0-10 scales)
    answers: dict[Slug, Text | SafeInt | list[Text]]
    comment: (
        Annotated[str, StringConstraints(max_length=MAX_COMMENT_LENGTH), SCALAR_TEXT] | None
    ) = None
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
    ticket: Annotated[str, StringConstraints(max_length=16), SCALAR_TEXT] | None = None
    reason: Slug | None = None
    # Wait measured on the device's monotonic clock; absent when the clock was reset between
    # arrival and this event (a reboot), in which case the server uses corrected wall times.
    wait_seconds: WaitSeconds | None = None
    # On a `cancelled` event (an agent's undo): the record id of the event taken back. Taking
    # back the arrival voids the visit; taking back a closing event puts the visit back in the
    # queue. A `cancelled` event without it voids the visit.
    cancels: UUID | None = None


class RecordIn(Strict):
    id: UUID
    kind: RecordKind
    payload_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$"), SCALAR_TEXT]
    device_time: datetime
    monotonic_ms: Count
    payload: BoundedObject


class AnswerRecord(RecordIn):
    """A record of kind `answer`: its payload is an `AnswerPayload`."""

    kind: Literal[RecordKind.ANSWER]
    payload: AnswerPayload


class VisitEventRecord(RecordIn):
    """A record of kind `visit_event`: its payload is a `VisitEventPayload`."""

    kind: Literal[RecordKind.VISIT_EVENT]
    payload: VisitEventPayload


# A record with its payload checked by kind: what the server stores (when the hash matches).
Record = Annotated[AnswerRecord | VisitEventRecord, Field(discriminator="kind")]


@dataclass(frozen=True)
class DescribedAs:
    """A field annotation: validated as its own type, described in JSON Schema as `described`."""

    described: Any

    def __get_pydantic_json_schema__(
        self, _core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(TypeAdapter(self.described).core_schema)


class SyncEnvelope(Strict):
    """A `SyncRequest` with its records left unread: the server checks each record on its own,
    so that one malformed record never refuses the others."""

    protocol: Literal[1] = PROTOCOL_VERSION
    sent_at: datetime
    records: list[Any] = Field(max_length=MAX_RECORDS_PER_BATCH)


class SyncRequest(SyncEnvelope):
    """`POST /api/v1/sync`: a batch of records, in capture order.

    Each record is a `RecordIn` whose payload stays as sent (it is hashed as sent); the JSON
    Schema describes it as a `Record`, the payload by kind, which is what the server then checks.
    """

    records: Annotated[
        list[RecordIn],
        DescribedAs(Annotated[list[Record], Field(max_length=MAX_RECORDS_PER_BATCH)]),
    ] = Field(max_length=MAX_RECORDS_PER_BATCH)


class AckStatus(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # already stored with the same hash: safe to forget
    CONFLICT = "conflict"  # same id, other hash: kept aside for a human, never overwrites
    REJECTED = "rejected"  # invalid record: retrying will not help


class Ack(Strict):
    id: UUID
    status: AckStatus
    code: Text | None = None
    detail: Text | None = None


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
    app_version: Annotated[str, StringConstraints(max_length=64), SCALAR_TEXT]
    backlog: Count
    oldest_unsent_age_seconds: Annotated[Finite, Field(ge=0)] | None = None
    held_records: Count = 0  # conflict/rejected, kept on the device
    last_error: Annotated[str, StringConstraints(max_length=500), SCALAR_TEXT] | None = None
    last_error_code: Annotated[str, StringConstraints(max_length=64), SCALAR_TEXT] | None = None
    disk_free_bytes: Count | None = None
    battery_percent: Annotated[Finite, Field(ge=0, le=100)] | None = None
    clock_offset_ms: SafeInt | None = None  # the device's own estimate, server minus device


class HeartbeatAck(Strict):
    received_at: datetime


class Problem(BaseModel):
    """An error answer (`application/problem+json`, RFC 9457): `code` is stable, act on it.

    Read tolerantly: what answers an error may be a proxy rather than the server."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    type: Text = "about:blank"
    title: Text = ""
    status: SafeInt | None = None
    code: Text | None = None
    detail: Text | None = None
    # Each invalid field of a request: {"path", "message", "type"}.
    errors: list[BoundedObject] | None = Field(default=None, exclude_if=lambda v: v is None)


class TokenRotation(Strict):
    """`POST /api/v1/token/rotate`: a new token for this device.

    The old token keeps working until the new one is first used, so a lost answer never locks
    the device out: it simply asks again with the old token.
    """

    token: Annotated[str, StringConstraints(min_length=20, max_length=200), SCALAR_TEXT]
