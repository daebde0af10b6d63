"""Records arriving, each arrival one `Storage.append` transaction: a device's batch, and a
phone answer with its per-visit link. Accepting a record (validation, idempotency, clock
correction) is `ingest.py`'s; deriving the figures from it, `projection.py`'s.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from qualivilles.protocol import Ack, AckStatus, RecordIn
from sync_server import clock
from sync_server.storage import db, devices, ingest, projection, schema, visit_links
from sync_server.storage.db import utcnow
from sync_server.storage.errors import VisitLinkUsed
from sync_server.storage.models import Source

if TYPE_CHECKING:
    from sync_server.storage.transactions import Storage


def store_batch(
    storage: Storage,
    records: list[RecordIn],
    source: Source,
    *,
    received_at: datetime | None = None,
    app_version: str | None = None,
    clock_offset_ms: int | None = None,
    max_drift_ms: int = ingest.DEFAULT_MAX_DRIFT_MS,
    max_offset_ms: int = ingest.DEFAULT_MAX_OFFSET_MS,
    window: clock.Window | None = None,
    project: bool = True,
) -> list[Ack]:
    """Store a batch and note the device's visit; one `Ack` per record.

    The records are checked (validation, hashes, clock correction) before a transaction opens,
    then appended in one `Storage.append` transaction, which on PostgreSQL takes no lock shared
    by other uploads. Beyond `max_drift_ms`, capture times are corrected by `clock_offset_ms`
    and the device is flagged as drifting (unflagged once back within bounds); beyond
    `max_offset_ms` the clock is unknown: flagged all the same, not corrected. Records captured
    outside `window` are refused. With `project`, the figures are brought up to date once the
    batch is committed (by this process, or by the one projecting already); without, the
    records wait for `projection.catch_up`."""
    now = received_at or utcnow()
    checked = ingest.check(
        storage.survey,
        db.time_value_for(storage.engine),
        records,
        source,
        now,
        clock_offset_ms=clock_offset_ms,
        max_drift_ms=max_drift_ms,
        max_offset_ms=max_offset_ms,
        window=window,
    )
    with storage.append() as connection:
        acks = checked.store(connection)
        if source.device_id is not None:
            devices.seen(
                connection,
                source.device_id,
                now=now,
                app_version=app_version,
                clock_offset_ms=clock_offset_ms,
                max_drift_ms=max_drift_ms,
            )
    if project:
        projection.catch_up(storage)
    return acks


def store_phone_answer(
    storage: Storage,
    record: RecordIn,
    source: Source,
    received_at: datetime,
    visit_id: str | None = None,
    window: clock.Window | None = None,
) -> Ack:
    """Store a phone answer and return once it is in the figures (its thanks page offers to
    leave contact details on its comment's register entry); with `visit_id`, also spend that
    visit's link, or raise `VisitLinkUsed` and store nothing. A resent record comes back
    DUPLICATE.

    The answer goes through the devices' ingestion unchanged (validation, comment scrubbing,
    derived facts); one transaction holds both, so that an answer to a per-visit link is stored
    if and only if that link is spent: of two tabs racing on one link, exactly one answer is kept
    (spending is a keyed insert: the second waits for the first's commit, then finds it).
    """
    checked = ingest.check(
        storage.survey, db.time_value_for(storage.engine), [record], source, received_at,
        window=window,
    )  # fmt: skip
    with storage.append() as connection:
        [ack] = checked.store(connection)
        if (
            visit_id is not None
            and ack.status == AckStatus.STORED
            and not visit_links.mark_used(connection, visit_id, received_at)
        ):
            raise VisitLinkUsed(visit_id)  # rolls the answer back with the transaction
    projection.until_projected(storage, str(record.id))
    return ack


def is_stored(connection: Connection, record_id: str) -> bool:
    """Whether a record by this id is in the log (a visitor sending the last page twice)."""
    query = sa.select(schema.records.c.id).where(schema.records.c.id == record_id)
    return connection.execute(query).first() is not None
