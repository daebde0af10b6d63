"""Random salts by period (a day's number), shared by every server process through the database:
the salt of a period is made by the first process to need it, and every other one reads that
same salt, even when two make it at the same moment. What is hashed under a salt leads back to
nothing once the salt is deleted (`schema.salt_table`)."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.storage.db import insert_ignore

SALT_BYTES = 32


def current(connection: Connection, table: sa.Table, period: int) -> bytes | None:
    """The newest salt of `table` if it is `period`'s or later (a process whose clock lags a
    little behind the one that started the period reads that one); None when `period` has none
    yet."""
    newest = connection.execute(
        sa.select(table.c.period, table.c.salt).order_by(table.c.period.desc()).limit(1)
    ).first()
    if newest is not None and newest.period >= period:
        return bytes(newest.salt)
    return None


def make(connection: Connection, table: sa.Table, period: int, now: datetime) -> bytes:
    """`period`'s salt, made random unless another process has just made it: the first stored
    wins and both return it. Call it in a write transaction."""
    made = {"period": period, "salt": secrets.token_bytes(SALT_BYTES), "created_at": now}
    connection.execute(insert_ignore(connection, table).values(**made))
    return bytes(connection.scalar(sa.select(table.c.salt).where(table.c.period == period)))
