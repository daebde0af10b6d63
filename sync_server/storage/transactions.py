"""`Storage`: the server's database, the town's time zone, and the two transactions callers open.

Callers use the storage modules' functions inside them, as the modules take a connection:

    with storage.read() as connection:
        device = devices.get(connection, device_id)
    with storage.write() as connection:
        devices.revoke(connection, device_id)

A read first catches the figures' tables up with the records log (`projection.py`), so it never
misses an acknowledged record; writes never interleave (`db.write`). Reads that belong together
(one page, one indicator computation) share one `read()`: one snapshot, one catch-up check.
Code outside `storage/` that passes a transaction on types it `sync_server.storage.Connection`.
Operations spanning several transactions take the storage itself (`migrations.upgrade`,
`uploads.store_batch`, `projection.catch_up`, `devices.authenticate`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection, Engine

from sync_server.storage import db, projection

DEFAULT_TIMEZONE = "Europe/Paris"


class Storage:
    def __init__(self, engine: Engine, timezone: str = DEFAULT_TIMEZONE):
        self.engine = engine
        # The town's zone: the local day an answer counts in, for the daily rollups.
        self.zone = ZoneInfo(timezone)

    @classmethod
    def from_url(
        cls, url: str, timezone: str = DEFAULT_TIMEZONE, pool_size: int | None = None
    ) -> Storage:
        """The storage on this database; bring it up to date with `migrations.upgrade` first
        (`sync-server migrate`). `pool_size`: PostgreSQL connections this process keeps open."""
        return cls(db.create_engine(url, pool_size), timezone)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A consistent read snapshot, taken once the figures' tables hold every record of the
        log, so a page never misses an acknowledged record whose projection has not run yet."""
        with db.read(self.engine) as connection:
            if not projection.pending(connection):
                yield connection
                return
        projection.catch_up(self)
        with db.read(self.engine) as connection:
            yield connection

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction, committed on success and rolled back on any exception; write
        transactions never interleave, so one may read what is stored and act on it."""
        with db.write(self.engine) as connection:
            yield connection
