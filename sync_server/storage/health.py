"""Heartbeats and the fleet view: each device's last state, its history, and what needs a human.

The fleet view (`fleet`) is shared by `sync-server devices`, `GET /api/v1/health` and the
dashboard, so the three always agree on what "silent" or "drifting" means.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from qualivilles.protocol import Heartbeat
from sync_server.storage import devices, schema
from sync_server.storage.db import upsert, utcnow
from sync_server.storage.ingest import DEFAULT_MAX_DRIFT_MS
from sync_server.storage.models import (
    Device,
    DeviceHealth,
    DeviceStatus,
    QuarantinedRecord,
    QuarantineSummary,
)

HEARTBEAT_RETENTION = timedelta(days=90)
SILENT_AFTER = timedelta(hours=24)


def is_silent(device: Device, now: datetime, silent_after: timedelta) -> bool:
    """An enrolled, active device not heard from for longer than `silent_after`."""
    if device.enrolled_at is None or device.revoked:
        return False
    last = device.last_seen_at or device.enrolled_at
    return now - last > silent_after


def record_heartbeat(
    connection: Connection,
    device_id: str,
    beat: Heartbeat,
    *,
    received_at: datetime | None = None,
    clock_offset_ms: int | None = None,
    max_drift_ms: int = DEFAULT_MAX_DRIFT_MS,
    retention: timedelta = HEARTBEAT_RETENTION,
) -> None:
    """Replace the device's last state, add to its history and purge history past retention;
    note the device's visit, app version and clock drift (`devices.seen`)."""
    received_at = received_at or utcnow()
    values: dict[str, Any] = {
        "received_at": received_at,
        "sent_at": beat.sent_at,
        "app_version": beat.app_version,
        "backlog": beat.backlog,
        "oldest_unsent_age_seconds": beat.oldest_unsent_age_seconds,
        "held_records": beat.held_records,
        "last_error": beat.last_error,
        "last_error_code": beat.last_error_code,
        "disk_free_bytes": beat.disk_free_bytes,
        "battery_percent": beat.battery_percent,
        "device_clock_offset_ms": beat.clock_offset_ms,
        "clock_offset_ms": clock_offset_ms,
    }
    status = schema.device_status
    # Keyed writes only, safe beside other devices' heartbeats and uploads (`Storage.append`):
    # the first heartbeat's row is inserted once whatever arrives at the same moment.
    upsert(connection, status, ("device_id",), {"device_id": device_id, **values})
    history = schema.heartbeats
    connection.execute(history.insert().values(device_id=device_id, **values))
    # This device's history purged on write, so it stays bounded without a scheduler (the daily
    # purge does every device's: a device gone silent included).
    connection.execute(
        history.delete().where(
            history.c.device_id == device_id, history.c.received_at < received_at - retention
        )
    )
    devices.seen(
        connection,
        device_id,
        now=received_at,
        app_version=beat.app_version[:50],
        clock_offset_ms=clock_offset_ms,
        max_drift_ms=max_drift_ms,
    )


def heartbeat_count(connection: Connection, device_id: str) -> int:
    history = schema.heartbeats
    query = sa.select(sa.func.count()).where(history.c.device_id == device_id)
    return int(connection.scalar(query) or 0)


def _status(row: Any) -> DeviceStatus:
    return DeviceStatus(
        received_at=row.received_at,
        app_version=row.app_version,
        backlog=row.backlog,
        oldest_unsent_age_seconds=row.oldest_unsent_age_seconds,
        held_records=row.held_records,
        last_error=row.last_error,
        last_error_code=row.last_error_code,
        disk_free_bytes=row.disk_free_bytes,
        battery_percent=row.battery_percent,
        device_clock_offset_ms=row.device_clock_offset_ms,
        clock_offset_ms=row.clock_offset_ms,
    )


def quarantine_by_device(connection: Connection) -> dict[str | None, QuarantineSummary]:
    """Quarantined conflicts grouped by the device that sent them (None: the phone survey)."""
    table = schema.quarantine
    counts: dict[str | None, int] = defaultdict(int)
    ids: dict[str | None, set[str]] = defaultdict(set)
    for row in connection.execute(sa.select(table.c.device_id, table.c.record_id)):
        counts[row.device_id] += 1
        ids[row.device_id].add(row.record_id)
    return {
        device_id: QuarantineSummary(counts[device_id], sorted(ids[device_id]))
        for device_id in counts
    }


def quarantine_summary(connection: Connection) -> QuarantineSummary:
    """Every quarantined conflict, whoever sent it."""
    groups = quarantine_by_device(connection).values()
    return QuarantineSummary(
        sum(group.count for group in groups),
        sorted({record_id for group in groups for record_id in group.record_ids}),
    )


def quarantined(connection: Connection) -> list[QuarantinedRecord]:
    """Every quarantined conflict with both hashes and the payload sent, oldest first."""
    table = schema.quarantine
    rows = connection.execute(sa.select(table).order_by(table.c.id))
    return [
        QuarantinedRecord(
            record_id=row.record_id,
            device_id=row.device_id,
            existing_hash=row.existing_hash,
            payload_hash=row.payload_hash,
            payload=row.payload,
            received_at=row.received_at,
        )
        for row in rows
    ]


def fleet(
    connection: Connection, now: datetime | None = None, silent_after: timedelta = SILENT_AFTER
) -> list[DeviceHealth]:
    """Every device (by site, service, name) with its last state and quarantined conflicts."""
    now = now or utcnow()
    statuses = {
        row.device_id: _status(row) for row in connection.execute(sa.select(schema.device_status))
    }
    quarantined = quarantine_by_device(connection)
    return [
        DeviceHealth(
            device=device,
            status=statuses.get(device.id),
            silent=is_silent(device, now, silent_after),
            quarantine=quarantined.get(device.id, QuarantineSummary()),
        )
        for device in devices.all_devices(connection)
    ]
