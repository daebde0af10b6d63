"""Device lifecycle: a one-time enrolment code, then a long token; both stored only as hashes.

A token is rotated in two steps so that a lost answer never locks a device out: the new token
waits as `pending_token_hash` while the old one keeps working, and the first request made with
the new token promotes it, after which the old one is refused.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server import clock
from sync_server.storage import schema, town
from sync_server.storage.db import UtcDateTime, utcnow
from sync_server.storage.errors import InvalidEnrolCode, UnknownDesk, UnknownDevice
from sync_server.storage.models import Device, DeviceMode, EnrolCode, Enrolment

if TYPE_CHECKING:
    from sync_server.storage.transactions import Storage

# No 0/O or 1/I/L: the code is read on one screen and typed on a kiosk's keyboard.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
ENROL_CODE_TTL = timedelta(hours=72)


def secret_hash(secret: str) -> str:
    """SHA-256 of a high-entropy secret; enough for random tokens (no password stretching)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def _device(row: Any) -> Device:
    return Device(
        id=row.id,
        name=row.name,
        site=row.site,
        service=row.service,
        mode=row.mode,
        enrolled_at=row.enrolled_at,
        revoked_at=row.revoked_at,
        last_seen_at=row.last_seen_at,
        app_version=row.app_version,
        clock_offset_ms=row.clock_offset_ms,
        clock_drift_ms=row.clock_drift_ms,
        clock_drift_since=row.clock_drift_since,
        token_rotated_at=row.token_rotated_at,
    )


def create(
    connection: Connection,
    *,
    site: str,
    service: str,
    name: str | None = None,
    mode: DeviceMode = "kiosk",
    ttl: timedelta = ENROL_CODE_TTL,
    now: datetime | None = None,
) -> EnrolCode:
    """Register a device for a desk; it becomes usable when it presents the returned code."""
    now = now or utcnow()
    if town.desk(connection, site, service) is None:
        raise UnknownDesk(f"no desk {site}/{service}")
    device_id = str(uuid.uuid4())
    code = new_code()
    connection.execute(
        schema.devices.insert().values(
            id=device_id,
            name=name or f"{mode} {site}/{service}",
            site=site,
            service=service,
            mode=mode,
            enrol_code_hash=secret_hash(normalise_code(code)),
            enrol_expires_at=now + ttl,
            created_at=now,
        )
    )
    return EnrolCode(device_id=device_id, code=code, expires_at=now + ttl)


def enrol(
    connection: Connection,
    code: str,
    app_version: str | None = None,
    now: datetime | None = None,
) -> Enrolment:
    """Exchange a one-time code for a token; the code stops working at once."""
    now = now or utcnow()
    table = schema.devices
    row = connection.execute(
        sa.select(table).where(table.c.enrol_code_hash == secret_hash(normalise_code(code)))
    ).first()
    if row is None or row.revoked_at is not None or row.enrol_expires_at <= now:
        raise InvalidEnrolCode("unknown, used or expired enrolment code")
    token = new_token()
    link_secret = secrets.token_urlsafe(32)
    # The code hash is matched again in the UPDATE: of two simultaneous uses, one wins.
    updated = connection.execute(
        table.update()
        .where(table.c.id == row.id, table.c.enrol_code_hash == row.enrol_code_hash)
        .values(
            enrol_code_hash=None,
            enrol_expires_at=None,
            token_hash=secret_hash(token),
            visit_link_secret=link_secret,
            enrolled_at=now,
            last_seen_at=now,
            app_version=app_version,
        )
    )
    if updated.rowcount != 1:
        raise InvalidEnrolCode("enrolment code already used")
    return Enrolment(device=get(connection, row.id), token=token, visit_link_secret=link_secret)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def by_token(connection: Connection, token: str) -> Device | None:
    """The device holding this token, current or pending (see `match_token`); changes nothing."""
    match = match_token(connection, token)
    return None if match is None else match[0]


def match_token(connection: Connection, token: str) -> tuple[Device, bool] | None:
    """The device holding this token, and whether it is the pending (rotated, unused) one."""
    table = schema.devices
    digest = secret_hash(token)
    row = connection.execute(
        sa.select(table).where(
            sa.or_(table.c.token_hash == digest, table.c.pending_token_hash == digest)
        )
    ).first()
    if row is None:
        return None
    return _device(row), row.token_hash != digest


def authenticate(storage: Storage, token: str) -> Device | None:
    """`by_token`, and the first use of a rotated token retires the old one."""
    with storage.read() as connection:
        match = match_token(connection, token)
    if match is None:
        return None
    device, pending = match
    if pending and not device.revoked:
        # A write only on this rare first use: every other request stays a plain read.
        with storage.write() as connection:
            promote_pending(connection, device.id, token)
    return device


def promote_pending(connection: Connection, device_id: str, token: str) -> None:
    """First use of a rotated token: it becomes the device's token; the old one stops working."""
    table = schema.devices
    digest = secret_hash(token)
    # Matched on the pending hash: of two concurrent first uses, the second changes nothing.
    connection.execute(
        table.update()
        .where(table.c.id == device_id, table.c.pending_token_hash == digest)
        .values(token_hash=digest, pending_token_hash=None)
    )


def rotate(connection: Connection, device_id: str, now: datetime | None = None) -> str:
    """A new token for the device, pending until first used (the current one works until then);
    replaces any earlier pending one."""
    table = schema.devices
    token = new_token()
    updated = connection.execute(
        table.update()
        .where(table.c.id == device_id, table.c.revoked_at.is_(None))
        .values(pending_token_hash=secret_hash(token), token_rotated_at=now or utcnow())
    )
    if updated.rowcount != 1:
        raise UnknownDevice(f"no active device {device_id}")
    return token


def get(connection: Connection, device_id: str) -> Device:
    row = connection.execute(
        sa.select(schema.devices).where(schema.devices.c.id == device_id)
    ).first()
    if row is None:
        raise UnknownDevice(f"no device {device_id}")
    return _device(row)


def set_enrolled_at(connection: Connection, device_id: str, enrolled_at: datetime) -> Device:
    """Record when the device was enrolled (the start of its records' capture window), e.g. for
    a device whose enrolment is carried over from elsewhere."""
    table = schema.devices
    connection.execute(
        table.update().where(table.c.id == device_id).values(enrolled_at=enrolled_at)
    )
    return get(connection, device_id)


def all_devices(connection: Connection) -> list[Device]:
    table = schema.devices
    query = sa.select(table).order_by(table.c.site, table.c.service, table.c.name)
    rows = connection.execute(query)
    return [_device(row) for row in rows]


def revoke(connection: Connection, device_id: str, now: datetime | None = None) -> Device:
    """Refuse the device's uploads from now on (the token hash stays, to say why)."""
    table = schema.devices
    result = connection.execute(
        table.update()
        .where(table.c.id == device_id, table.c.revoked_at.is_(None))
        .values(revoked_at=now or utcnow(), enrol_code_hash=None)
    )
    device = get(connection, device_id)
    if result.rowcount == 0 and not device.revoked:
        raise UnknownDevice(f"no device {device_id}")
    return device


def seen(
    connection: Connection,
    device_id: str,
    *,
    now: datetime,
    app_version: str | None,
    clock_offset_ms: int | None,
    max_drift_ms: int,
) -> None:
    """Note a contact: last seen, app version, clock offset, and the drift flag it implies."""
    table = schema.devices
    values: dict[str, Any] = {"last_seen_at": now}
    if app_version is not None:
        values["app_version"] = app_version
    if clock_offset_ms is not None:
        values["clock_offset_ms"] = clock_offset_ms
        if clock.is_drifting(clock_offset_ms, max_drift_ms):
            # The flag keeps the time it was first raised; the offset is the latest seen.
            values["clock_drift_ms"] = clock_offset_ms
            values["clock_drift_since"] = sa.func.coalesce(
                table.c.clock_drift_since, sa.literal(now, UtcDateTime)
            )
        else:
            values["clock_drift_ms"] = None
            values["clock_drift_since"] = None
    connection.execute(table.update().where(table.c.id == device_id).values(**values))
