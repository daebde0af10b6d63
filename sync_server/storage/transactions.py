"""`Storage`: the server's database, the town's time zone, and the transactions callers open.

Callers use the storage modules' functions inside them, as the modules take a connection:

    with storage.read() as connection:
        device = devices.get(connection, device_id)
    with storage.write() as connection:
        devices.revoke(connection, device_id)

Three kinds: `read`, one consistent snapshot; `write`, which never interleaves with another
write (`db.write`); `append`, for records arriving, which interleaves with everything so that
uploads through several processes run side by side (`db.append`). Reads never project the log:
the figures' tables may be a few records behind it, and `projection.lag` says by how much.
Reads that belong together (one page, one indicator computation) share one `read()`: one
snapshot. A page made of parts that each open their own `read()` wraps itself in `reading()`:
every `read()` of the same thread inside it is then that one snapshot, on one pooled connection
(a page waits for the pool once, not once per part, when the devices keep it busy). Code outside
`storage/` that passes a transaction on types it `sync_server.storage.Connection`. Operations
spanning several transactions take the storage itself (`migrations.upgrade`,
`uploads.store_batch`, `projection.catch_up`, `devices.authenticate`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection, Engine

from qualivilles.survey import SurveyDefinition
from sync_server.storage import db, surveys

DEFAULT_TIMEZONE = "Europe/Paris"

# The snapshot `Storage.reading` opened: its storage, its thread and its connection. The thread
# is kept because a context is copied into worker threads, and a connection is never shared
# between two threads.
_shared_read: ContextVar[tuple[Storage, int, Connection] | None] = ContextVar(
    "shared_read", default=None
)


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

    def survey(self, survey_id: str, version: int) -> SurveyDefinition | None:
        """A published survey version, from memory once read (see `surveys.published_version`)."""
        return surveys.published_version(self.engine, survey_id, version)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A consistent read snapshot (the one `reading()` opened, inside it)."""
        shared = _shared_read.get()
        if shared is not None and shared[0] is self and shared[1] == threading.get_ident():
            yield shared[2]
            return
        with db.read(self.engine) as connection:
            yield connection

    @contextmanager
    def reading(self) -> Iterator[None]:
        """One snapshot for every `read()` of this thread until the block ends (a page's)."""
        with db.read(self.engine) as connection:
            token = _shared_read.set((self, threading.get_ident(), connection))
            try:
                yield
            finally:
                _shared_read.reset(token)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction, committed on success and rolled back on any exception; write
        transactions never interleave, so one may read what is stored and act on it."""
        with db.write(self.engine) as connection:
            yield connection

    @contextmanager
    def append(self) -> Iterator[Connection]:
        """A write transaction for records arriving, side by side with other uploads (see
        `db.append` for what it may hold)."""
        with db.append(self.engine) as connection:
            yield connection
