"""Failed sign-ins, by the name typed (lower case, whether an account has it or not) and by the
client address: what the login page counts to slow down and then lock out password guessing.
Kept in the database so that every server process counts the same failures; rows older than the
counting window are purged whenever a failure is written.

Neither the name typed (it may be a password typed in the wrong field) nor the address is
stored: each is kept as `HMAC(salt, value)`, truncated, under a random salt of the day shared by
every process. A failure is looked up under the day's salt and the day before's, so counting
does not start afresh at midnight; older salts are deleted as a new one is made, and with them
anything that could lead back to a name or an address.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.storage import salts, schema

MAX_ACCOUNT_LENGTH = 200
MAX_ADDRESS_LENGTH = 64
SALT_PERIOD = timedelta(days=1)
# The salts looked up: the current period's and the one before.
SALTS_KEPT = 2


def account_key(username: str) -> str:
    """What failures are counted under: account names are unique whatever their case."""
    return username.strip().lower()[:MAX_ACCOUNT_LENGTH]


def salt_period(moment: datetime) -> int:
    """The salt period `moment` falls in: days from the Unix epoch, the same in every process."""
    return math.floor(moment.timestamp() / SALT_PERIOD.total_seconds())


def pseudonym(salt: bytes, value: str) -> str:
    """What is stored in place of a name or an address."""
    return hmac.new(salt, value.encode(), hashlib.sha256).hexdigest()[:32]


def record(
    connection: Connection, username: str, address: str, now: datetime, window: timedelta
) -> None:
    table = schema.login_failures
    salt = _salt(connection, now)
    connection.execute(table.delete().where(table.c.failed_at <= now - window))
    connection.execute(
        table.insert().values(
            account=pseudonym(salt, account_key(username)),
            address=pseudonym(salt, address[:MAX_ADDRESS_LENGTH]),
            failed_at=now,
        )
    )


def _salt(connection: Connection, now: datetime) -> bytes:
    """The salt of `now`'s period, made (random) by the first process to need it; making one
    deletes the salts before the previous period."""
    t = schema.login_salts
    period = salt_period(now)
    found = salts.current(connection, t, period)
    if found is not None:
        return found
    forget_old_salts(connection, now)
    return salts.make(connection, t, period, now)


def forget_old_salts(connection: Connection, now: datetime) -> int:
    """Delete the salts before the previous period (the daily purge: when nobody fails to sign
    in for days, no new salt deletes them); how many."""
    t = schema.login_salts
    oldest_kept = salt_period(now) - (SALTS_KEPT - 1)
    return int(connection.execute(t.delete().where(t.c.period < oldest_kept)).rowcount)


def _pseudonyms(connection: Connection, value: str) -> list[str]:
    """`value` under each salt kept (none before the first failure)."""
    t = schema.login_salts
    salts = connection.scalars(sa.select(t.c.salt).order_by(t.c.period.desc()).limit(SALTS_KEPT))
    return [pseudonym(bytes(salt), value) for salt in salts]


def _times(
    connection: Connection, column: sa.Column[str], value: str, since: datetime
) -> list[datetime]:
    keys = _pseudonyms(connection, value)
    if not keys:
        return []
    table = schema.login_failures
    query = (
        sa.select(table.c.failed_at)
        .where(column.in_(keys), table.c.failed_at > since)
        .order_by(table.c.failed_at)
    )
    return list(connection.scalars(query))


def of_account(connection: Connection, username: str, since: datetime) -> list[datetime]:
    """When the sign-ins under that name failed after `since`, oldest first."""
    return _times(connection, schema.login_failures.c.account, account_key(username), since)


def of_address(connection: Connection, address: str, since: datetime) -> list[datetime]:
    """When the sign-ins from that address failed after `since`, oldest first."""
    column = schema.login_failures.c.address
    return _times(connection, column, address[:MAX_ADDRESS_LENGTH], since)


# What a forgotten failure is counted under: no pseudonym is empty.
_FORGOTTEN = ""


def forget_account(connection: Connection, username: str) -> None:
    """A successful sign-in: the name's earlier failures no longer count against it; they still
    count against their addresses."""
    table = schema.login_failures
    keys = _pseudonyms(connection, account_key(username))
    if keys:
        connection.execute(
            table.update().where(table.c.account.in_(keys)).values(account=_FORGOTTEN)
        )
