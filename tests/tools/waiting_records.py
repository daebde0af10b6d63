"""Records in the log that the figures' tables have not caught up with yet, as between a sync's
reply and the projection that follows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sync_server.storage import Source, Storage, db, projection, uploads
from tests.fixtures.server import SERVICE, SITE, answer_payload, make_record


def log_unprojected(storage: Storage, count: int = 50) -> None:
    """`count` kiosk answers of the last minutes, in the log only (the sync endpoint's ingest)."""
    now = datetime.now(UTC)
    records = [make_record(answer_payload(), at=now - timedelta(seconds=i)) for i in range(count)]
    source = Source(site=SITE, service=SERVICE, channel="kiosk")
    uploads.store_batch(storage, records, source, project=False)


def figures_behind(storage: Storage) -> bool:
    """Whether the log holds records the figures' tables lack, read without catching them up
    (which `storage.read()` would do)."""
    with db.read(storage.engine) as connection:
        return projection.pending(connection)
