"""What the sync server stored, read for assertions the way its storage reads.

Each read goes through `storage.read()`, which first catches the figures' tables up with the
records log, then selects through SQLAlchemy on the storage's own schema: an assertion holds on
SQLite and PostgreSQL alike. For what no storage function returns; prefer those.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from sync_server.storage import Storage, schema


def stored_rows(
    storage: Storage, table: str, *columns: str, order_by: str | None = None
) -> list[tuple[Any, ...]]:
    """`columns` of every row of `table`, in `order_by` order (default: the primary key's)."""
    rows = schema.metadata.tables[table]
    order = [rows.c[order_by]] if order_by else list(rows.primary_key.columns)
    query = sa.select(*(rows.c[name] for name in columns)).order_by(*order)
    with storage.read() as connection:
        return [tuple(row) for row in connection.execute(query)]


def row_count(storage: Storage, table: str) -> int:
    """Rows in one table, the projection caught up first."""
    with storage.read() as connection:
        return schema.row_count(connection, table)


def record_ids(storage: Storage, device_id: str | None = None) -> list[str]:
    """The ids in the records log in the order they came (only `device_id`'s, if given)."""
    logged = stored_rows(storage, "records", "id", "device_id", order_by="seq")
    return [id_ for id_, device in logged if device_id is None or device == device_id]
