"""A server process keeps `db_pool_size` PostgreSQL connections and opens no more: requests
beyond wait for one, instead of each opening a connection (a PostgreSQL process started, its
caches filled) to close it after.
"""

from __future__ import annotations

import threading

from sync_server.settings import Settings
from sync_server.storage import Storage

THREADS = 12
READS = 5


def sessions_opened(storage: Storage) -> int:
    """Connections ever opened to this database (PostgreSQL counts them per database)."""
    with storage.read() as connection:
        return int(
            connection.exec_driver_sql(
                "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
            ).scalar()
        )


def test_a_burst_beyond_the_pool_waits_for_its_connections(postgres_url):
    storage = Storage.from_url(postgres_url, pool_size=3)
    observer = Storage.from_url(postgres_url, pool_size=1)
    try:
        before = sessions_opened(observer)
        start = threading.Barrier(THREADS)
        served: list[int] = []

        def reads() -> None:
            start.wait()
            for _ in range(READS):
                with storage.read() as connection:
                    # A little work inside the transaction, so the readers overlap.
                    connection.exec_driver_sql("SELECT pg_sleep(0.01)")
                    served.append(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar())

        threads = [threading.Thread(target=reads) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        opened = sessions_opened(observer) - before
    finally:
        storage.close()
        observer.close()
    assert len(served) == THREADS * READS
    assert len(set(served)) <= 3
    assert opened <= 3


def test_the_pool_size_is_the_setting(postgres_url):
    settings = Settings(database_url=postgres_url, db_pool_size=7)
    storage = Storage.from_url(settings.database_url, settings.timezone, settings.db_pool_size)
    try:
        assert storage.engine.pool.size() == 7
    finally:
        storage.close()
