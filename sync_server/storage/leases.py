"""Runner leases: one holder at a time for a background job shared by every server process
(the alerts' delivery), taken for a while and renewed as the job goes on. A holder that dies
without releasing keeps it only until the lease ends; then another may take it."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.storage import schema


def take(
    connection: Connection, name: str, holder: str, now: datetime, duration: timedelta
) -> bool:
    """Take (or renew) the lease `name` for `holder` until `now + duration`: True when it is
    free, ended, or already this holder's; False while another holder's runs. Call it in a
    write transaction (writes never interleave, so two takers cannot both win)."""
    t = schema.runner_leases
    current = connection.execute(
        sa.select(t.c.holder, t.c.expires_at).where(t.c.name == name)
    ).first()
    until = now + duration
    if current is None:
        connection.execute(t.insert().values(name=name, holder=holder, expires_at=until))
        return True
    if current.holder != holder and current.expires_at > now:
        return False
    connection.execute(t.update().where(t.c.name == name).values(holder=holder, expires_at=until))
    return True


def release(connection: Connection, name: str, holder: str) -> None:
    """End `holder`'s lease now (nothing when another holds it)."""
    t = schema.runner_leases
    connection.execute(t.delete().where(t.c.name == name, t.c.holder == holder))


def holder_of(connection: Connection, name: str, now: datetime) -> str | None:
    """Who holds the lease `name` at `now`, if anybody."""
    t = schema.runner_leases
    query = sa.select(t.c.holder).where(t.c.name == name, t.c.expires_at > now)
    return connection.scalar(query)
