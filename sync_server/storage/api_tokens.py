"""Personal API tokens: a dashboard user's own secret for a spreadsheet or a BI tool that reads
the figures (`GET /api/v1/indicators`, the exports) without signing in.

The secret is random, starts with `qvt_` so that nobody mistakes it for a device token, is shown
once at creation and stored only as its SHA-256. A token carries no rights of its own: whoever
checks it applies its owner's current role and services at each use, so disabling the account
or changing its role takes effect at once.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.storage import schema
from sync_server.storage.db import utcnow
from sync_server.storage.devices import secret_hash
from sync_server.storage.errors import StorageError
from sync_server.storage.models import ApiToken, IssuedApiToken

PREFIX = "qvt_"
MAX_LABEL_LENGTH = 100
# `last_used_at` is written at most this often per token: a BI refresh sends many requests,
# and each would otherwise be a write.
USE_MARK_INTERVAL = timedelta(minutes=1)


class InvalidLabel(StorageError, ValueError):
    """The label cannot name a token; `code` says why (`label_empty`, `label_long`)."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(code)


class UnknownApiToken(StorageError):
    """No token with that id belongs to that user."""


# -- rules (pure) ---------------------------------------------------------------------------


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def is_api_token(secret: str) -> bool:
    """Whether `secret` has the shape of a personal API token (a device token has not)."""
    return secret.startswith(PREFIX) and len(secret) > len(PREFIX)


def check_label(label: str) -> str:
    """The label without surrounding spaces; InvalidLabel if empty or too long."""
    label = " ".join(label.split())
    if not label:
        raise InvalidLabel("label_empty")
    if len(label) > MAX_LABEL_LENGTH:
        raise InvalidLabel("label_long")
    return label


def use_mark_due(token: ApiToken, now: datetime) -> bool:
    """Whether a use at `now` should be written to `last_used_at`."""
    return token.last_used_at is None or now - token.last_used_at >= USE_MARK_INTERVAL


# -- rows -----------------------------------------------------------------------------------


def _token(row: Any) -> ApiToken:
    return ApiToken(
        id=row.id,
        username=row.username,
        label=row.label,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def _get(connection: Connection, token_id: int) -> ApiToken | None:
    table = schema.api_tokens
    row = connection.execute(sa.select(table).where(table.c.id == token_id)).first()
    return None if row is None else _token(row)


def create(
    connection: Connection, *, username: str, label: str, now: datetime | None = None
) -> IssuedApiToken:
    """A new token for `username`; its secret is in the answer and nowhere else."""
    label = check_label(label)
    secret = new_secret()
    inserted = connection.execute(
        schema.api_tokens.insert().values(
            username=username,
            label=label,
            secret_hash=secret_hash(secret),
            created_at=now or utcnow(),
        )
    )
    token = _get(connection, int(inserted.inserted_primary_key[0]))
    assert token is not None
    return IssuedApiToken(token=token, secret=secret)


def of_user(connection: Connection, username: str) -> list[ApiToken]:
    """The user's tokens, revoked ones included, newest first."""
    table = schema.api_tokens
    rows = connection.execute(
        sa.select(table).where(table.c.username == username).order_by(table.c.id.desc())
    )
    return [_token(row) for row in rows]


def by_secret(connection: Connection, secret: str) -> ApiToken | None:
    """The token with this secret, revoked or not; None for anything else."""
    if not is_api_token(secret):
        return None
    table = schema.api_tokens
    row = connection.execute(
        sa.select(table).where(table.c.secret_hash == secret_hash(secret))
    ).first()
    return None if row is None else _token(row)


def revoke(
    connection: Connection, username: str, token_id: int, now: datetime | None = None
) -> ApiToken:
    """Refuse the token from now on; revoking it again keeps the first date."""
    table = schema.api_tokens
    token = _get(connection, token_id)
    if token is None or token.username != username:
        raise UnknownApiToken(str(token_id))
    connection.execute(
        table.update()
        .where(table.c.id == token_id, table.c.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    return _get(connection, token_id) or token


def mark_used(connection: Connection, token_id: int, now: datetime | None = None) -> None:
    """Note a use, unless one was noted less than `USE_MARK_INTERVAL` ago."""
    now = now or utcnow()
    table = schema.api_tokens
    # Checked again in the UPDATE: of simultaneous requests, only the first writes.
    connection.execute(
        table.update()
        .where(
            table.c.id == token_id,
            sa.or_(
                table.c.last_used_at.is_(None),
                table.c.last_used_at <= now - USE_MARK_INTERVAL,
            ),
        )
        .values(last_used_at=now)
    )
