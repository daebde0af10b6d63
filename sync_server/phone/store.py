"""Storing a phone answer, and spending its per-visit link in the same transaction.

The answer goes through the devices' ingestion unchanged (validation, comment scrubbing, derived
facts); only the transaction is ours, so that an answer to a per-visit link is stored if and only
if that link is spent: of two tabs racing on one link, exactly one answer is kept.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from qualivilles.protocol import Ack, AckStatus, RecordIn
from sync_server.phone.visit_links import InvalidVisitLink
from sync_server.storage import Source, Storage, db, ingest, projection, schema
from sync_server.storage import visit_links as link_table


class _LinkAlreadyUsed(Exception):
    pass


def store_answer(
    storage: Storage,
    record: RecordIn,
    source: Source,
    received_at: datetime,
    visit_id: str | None = None,
) -> Ack:
    """Ingest `record`; with `visit_id`, also spend that visit's link, or raise
    `InvalidVisitLink("used")` and store nothing. A resent record comes back DUPLICATE."""
    try:
        with db.write(storage.engine) as connection:
            [ack] = ingest.ingest(connection, [record], source, received_at)
            projection.project_all(connection, storage.zone)
            if (
                visit_id is not None
                and ack.status == AckStatus.STORED
                and not link_table.mark_used(connection, visit_id, received_at)
            ):
                raise _LinkAlreadyUsed  # rolls the answer back with the transaction
    except _LinkAlreadyUsed:
        raise InvalidVisitLink("used", "this visit already has an answer") from None
    return ack


def answer_stored(storage: Storage, record_id: str) -> bool:
    """Whether a record by this id is stored (a visitor resending the last page twice)."""
    with db.read(storage.engine) as connection:
        query = sa.select(schema.records.c.id).where(schema.records.c.id == record_id)
        return connection.execute(query).first() is not None
