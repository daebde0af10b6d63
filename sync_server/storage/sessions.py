"""Dashboard sessions, kept on the server: the browser's cookie carries a random id, the table
its SHA-256, the user and two times. A session ends when its row is deleted: at sign-out, and for
every session of a user whose password, role or services change or whose account is disabled
(`storage.users` does it in the same transaction). Enabling an account again revives nothing.

A session also ends when it is idle for longer than the idle timeout, or older than its absolute
lifetime, whatever its use (`is_live`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.storage import schema
from sync_server.storage.db import utcnow
from sync_server.storage.devices import secret_hash

# `last_seen_at` is written at most this often per session: a page loads several requests,
# and each would otherwise be a write.
SEEN_MARK_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class Session:
    username: str
    created_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class Lifetime:
    """How long a session lasts: `idle` without a request, `absolute` in all."""

    idle: timedelta
    absolute: timedelta


# -- rules (pure) ---------------------------------------------------------------------------


def is_live(session: Session, now: datetime, lifetime: Lifetime) -> bool:
    """Whether `session` may still stand for its user at `now`."""
    return (
        now - session.last_seen_at < lifetime.idle and now - session.created_at < lifetime.absolute
    )


def seen_mark_due(session: Session, now: datetime) -> bool:
    """Whether a request at `now` should be written to `last_seen_at`."""
    return now - session.last_seen_at >= SEEN_MARK_INTERVAL


# -- rows -----------------------------------------------------------------------------------


def open_session(connection: Connection, username: str, now: datetime | None = None) -> str:
    """A new session for `username`; returns the id for the cookie (never stored as such)."""
    now = now or utcnow()
    session_id = secrets.token_urlsafe(32)
    connection.execute(
        schema.sessions.insert().values(
            id_hash=secret_hash(session_id), username=username, created_at=now, last_seen_at=now
        )
    )
    return session_id


def find(connection: Connection, session_id: str) -> Session | None:
    table = schema.sessions
    row = connection.execute(
        sa.select(table).where(table.c.id_hash == secret_hash(session_id))
    ).first()
    if row is None:
        return None
    return Session(username=row.username, created_at=row.created_at, last_seen_at=row.last_seen_at)


def mark_seen(connection: Connection, session_id: str, now: datetime) -> None:
    table = schema.sessions
    connection.execute(
        table.update().where(table.c.id_hash == secret_hash(session_id)).values(last_seen_at=now)
    )


def end(connection: Connection, session_id: str) -> None:
    table = schema.sessions
    connection.execute(table.delete().where(table.c.id_hash == secret_hash(session_id)))


def end_all(connection: Connection, username: str, keep: str | None = None) -> int:
    """End every session of `username` but `keep` (a session id), if given; returns how many
    were ended."""
    table = schema.sessions
    query = table.delete().where(table.c.username == username)
    if keep is not None:
        query = query.where(table.c.id_hash != secret_hash(keep))
    return connection.execute(query).rowcount


def count(connection: Connection, username: str) -> int:
    table = schema.sessions
    query = sa.select(sa.func.count()).select_from(table).where(table.c.username == username)
    return int(connection.scalar(query) or 0)


def stale(now: datetime, lifetime: Lifetime) -> sa.ColumnElement[bool]:
    """The sessions no longer live at `now` (they would be refused anyway)."""
    table = schema.sessions
    return sa.or_(
        table.c.last_seen_at <= now - lifetime.idle,
        table.c.created_at <= now - lifetime.absolute,
    )


def purge(connection: Connection, now: datetime, lifetime: Lifetime) -> int:
    """Delete the sessions no longer live; returns how many."""
    table = schema.sessions
    return connection.execute(table.delete().where(stale(now, lifetime))).rowcount
