"""Examples for the OpenAPI document: one morning at a town-hall desk, as the wire carries it.

An agent tablet at the IRIS desk uploads a visit's `taken_in_charge` and the answer the visitor
then gave on the tablet; the server acknowledges both. Ids are UUIDv7 made at each capture time,
hashes are the real SHA-256 of each payload, and every time follows the one before.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from qualivilles.protocol import payload_hash


def uuid7_at(moment: datetime, random_bits: int) -> str:
    """The UUIDv7 a device would make at `moment` (its 48-bit millisecond timestamp), with
    `random_bits` (up to 74 bits) in place of the random part."""
    milliseconds = int(moment.timestamp() * 1000)
    rand_a, rand_b = (random_bits >> 62) & 0xFFF, random_bits & ((1 << 62) - 1)
    return str(
        UUID(int=(milliseconds << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b)
    )


def _time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


ARRIVED_AT = datetime(2026, 3, 2, 8, 52, 10, 118000, tzinfo=UTC)
TAKEN_IN_CHARGE_AT = datetime(2026, 3, 2, 9, 2, 41, 530000, tzinfo=UTC)
ANSWERED_AT = datetime(2026, 3, 2, 9, 14, 31, 204000, tzinfo=UTC)
SENT_AT = datetime(2026, 3, 2, 9, 14, 33, 871000, tzinfo=UTC)
RECEIVED_AT = SENT_AT + timedelta(milliseconds=212)

VISIT_ID = uuid7_at(ARRIVED_AT, 0x2B41_97C0_5E1D_83A6_04F)
TAKEN_IN_CHARGE_ID = uuid7_at(TAKEN_IN_CHARGE_AT, 0x1C93_0B7E_2D45_F860_91A)
ANSWER_ID = uuid7_at(ANSWERED_AT, 0x3A07_5F28_C1B9_64D2_7E3)

TAKEN_IN_CHARGE: dict[str, Any] = {
    "visit_id": VISIT_ID,
    "event": "taken_in_charge",
    "ticket": "A-017",
    "wait_seconds": (TAKEN_IN_CHARGE_AT - ARRIVED_AT).total_seconds(),
}
ANSWER: dict[str, Any] = {
    "survey_id": "qualivilles-accueil",
    "survey_version": 1,
    "channel": "tablet",
    "language": "fr",
    "status": "complete",
    "answers": {"overall": "satisfied"},
    "comment": "Accueil rapide et aimable.",
    "visit_id": VISIT_ID,
}


def _record(record_id: str, kind: str, at: datetime, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": record_id,
        "kind": kind,
        "payload_hash": payload_hash(payload),
        "device_time": _time(at),
        # The tablet's monotonic clock, counted from its last start at 07:58.
        "monotonic_ms": int((at - datetime(2026, 3, 2, 7, 58, tzinfo=UTC)).total_seconds() * 1000),
        "payload": payload,
    }


SYNC_REQUEST: dict[str, Any] = {
    "protocol": 1,
    "sent_at": _time(SENT_AT),
    "records": [
        _record(TAKEN_IN_CHARGE_ID, "visit_event", TAKEN_IN_CHARGE_AT, TAKEN_IN_CHARGE),
        _record(ANSWER_ID, "answer", ANSWERED_AT, ANSWER),
    ],
}
SYNC_RESPONSE: dict[str, Any] = {
    "protocol": 1,
    "received_at": _time(RECEIVED_AT),
    "acknowledged": [
        {"id": TAKEN_IN_CHARGE_ID, "status": "stored", "code": None, "detail": None},
        {"id": ANSWER_ID, "status": "stored", "code": None, "detail": None},
    ],
}
HEARTBEAT: dict[str, Any] = {
    "sent_at": _time(SENT_AT + timedelta(seconds=1)),
    "app_version": "0.1.0",
    "backlog": 0,
    "oldest_unsent_age_seconds": None,
    "held_records": 0,
    "last_error": None,
    "last_error_code": None,
    "disk_free_bytes": 5_368_709_120,
    "battery_percent": 87.0,
    "clock_offset_ms": 212,
}
HEARTBEAT_ACK: dict[str, Any] = {"received_at": _time(RECEIVED_AT + timedelta(seconds=1))}
ENROLMENT_REQUEST: dict[str, Any] = {"code": "KXDMK-WXCW9", "app_version": "0.1.0"}
ENROLMENT_REPLY: dict[str, Any] = {
    "device_id": "5f0c2b9e-3d41-4a8e-9b7a-0c6e1f2d3a4b",
    "token": "q3Jm0v8wWc1tY5kZp7RrN2sX4uH6bL9eA0dG3fK8iQo",
    "site": "centre-administratif",
    "service": "iris",
    "mode": "tablet",
    "name": "Tablette IRIS",
    "visit_link_secret": "Zx8pR2mV5nQ1wK7tY4hC0jL3fB6dS9gE2aU5oI8rT1c",
}
TOKEN_ROTATION: dict[str, Any] = {"token": "Hn4Wq7Ls2Xe9Bk5Vr1Tz8Mc3Pj6Yd0Gf4Ua7Si2Ko5Q"}
PROBLEMS: list[dict[str, Any]] = [
    {
        "type": "https://qualivilles.example/problems/invalid_body",
        "title": "Invalid request body",
        "status": 422,
        "code": "invalid_body",
        "detail": "sent_at: Field required",
        "errors": [{"path": "sent_at", "message": "Field required", "type": "missing"}],
    },
    {
        "type": "https://qualivilles.example/problems/missing_token",
        "title": "Missing device token",
        "status": 401,
        "code": "missing_token",
        "detail": "send 'Authorization: Bearer <token>' as received at enrolment",
    },
]

# Component schema name -> its examples, as the OpenAPI document lists them.
BY_SCHEMA: dict[str, list[dict[str, Any]]] = {
    "SyncRequest": [SYNC_REQUEST],
    "SyncResponse": [SYNC_RESPONSE],
    "Heartbeat": [HEARTBEAT],
    "HeartbeatAck": [HEARTBEAT_ACK],
    "EnrolmentRequest": [ENROLMENT_REQUEST],
    "EnrolmentReply": [ENROLMENT_REPLY],
    "TokenRotation": [TOKEN_ROTATION],
    "Problem": PROBLEMS,
}
