"""The phone survey's abuse counters, shared by every server process on the database: the salt
of the current period, and each client's recent submissions and answers under a salted hash of
its address (never the address). Rows older than the counting window, and every salt and row of
an earlier period, are deleted as new ones are written."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.storage import salts, schema

KINDS = ("post", "answer")
# Older than this, a counter counts for nothing and a salt is an earlier period's (a day each).
STALE_AFTER = timedelta(days=1)


def salt(connection: Connection, period: int, now: datetime) -> bytes:
    """The salt of `period`, made (random) by the first process to need it; a new period's
    salt replaces the older ones and forgets every counter kept under them. Call it in a write
    transaction, so that every process gets the same salt."""
    t = schema.phone_salts
    found = salts.current(connection, t, period)
    if found is not None:
        return found
    connection.execute(t.delete().where(t.c.period < period))
    connection.execute(schema.phone_limits.delete())
    return salts.make(connection, t, period, now)


def times(connection: Connection, client: str, kind: str, since: datetime) -> list[datetime]:
    """When `client` did `kind` after `since`, oldest first."""
    t = schema.phone_limits
    query = (
        sa.select(t.c.at)
        .where(t.c.client == client, t.c.kind == kind, t.c.at > since)
        .order_by(t.c.at)
    )
    return list(connection.scalars(query))


def note(connection: Connection, client: str, kind: str, at: datetime) -> None:
    connection.execute(schema.phone_limits.insert().values(client=client, kind=kind, at=at))


def expire(connection: Connection, before: datetime) -> None:
    """Forget what happened at or before `before` (it no longer counts)."""
    t = schema.phone_limits
    connection.execute(t.delete().where(t.c.at <= before))


def clients(connection: Connection) -> set[str]:
    """The hashed clients remembered now."""
    t = schema.phone_limits
    return set(connection.scalars(sa.select(t.c.client).distinct()))


def forget_stale(connection: Connection, now: datetime, age: timedelta = STALE_AFTER) -> None:
    """The daily purge: delete the counters and the salts older than `age`, which a new period
    only deletes when a phone next answers (days later, in a quiet month)."""
    connection.execute(schema.phone_limits.delete().where(schema.phone_limits.c.at < now - age))
    salts = schema.phone_salts
    connection.execute(salts.delete().where(salts.c.created_at < now - age))
