"""Failed sign-ins, by the name typed (lower case, whether an account has it or not) and by the
client address: what the login page counts to slow down and then lock out password guessing.
Kept in the database so that every server process counts the same failures; rows older than the
counting window are purged whenever a failure is written.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.storage import schema

MAX_ACCOUNT_LENGTH = 200
MAX_ADDRESS_LENGTH = 64


def account_key(username: str) -> str:
    """What failures are counted under: account names are unique whatever their case."""
    return username.strip().lower()[:MAX_ACCOUNT_LENGTH]


def record(
    connection: Connection, username: str, address: str, now: datetime, window: timedelta
) -> None:
    table = schema.login_failures
    connection.execute(table.delete().where(table.c.failed_at <= now - window))
    connection.execute(
        table.insert().values(
            account=account_key(username), address=address[:MAX_ADDRESS_LENGTH], failed_at=now
        )
    )


def _times(
    connection: Connection, condition: sa.ColumnElement[bool], since: datetime
) -> list[datetime]:
    table = schema.login_failures
    query = (
        sa.select(table.c.failed_at)
        .where(condition, table.c.failed_at > since)
        .order_by(table.c.failed_at)
    )
    return list(connection.scalars(query))


def of_account(connection: Connection, username: str, since: datetime) -> list[datetime]:
    """When the sign-ins under that name failed after `since`, oldest first."""
    return _times(connection, schema.login_failures.c.account == account_key(username), since)


def of_address(connection: Connection, address: str, since: datetime) -> list[datetime]:
    """When the sign-ins from that address failed after `since`, oldest first."""
    condition = schema.login_failures.c.address == address[:MAX_ADDRESS_LENGTH]
    return _times(connection, condition, since)


# What a forgotten failure is counted under: no account has an empty name.
_FORGOTTEN = ""


def forget_account(connection: Connection, username: str) -> None:
    """A successful sign-in: the name's earlier failures no longer count against it; they still
    count against their addresses."""
    table = schema.login_failures
    connection.execute(
        table.update().where(table.c.account == account_key(username)).values(account=_FORGOTTEN)
    )
