"""Dashboard users; passwords hashed with Argon2id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection

from sync_server.storage import schema
from sync_server.storage.errors import UserExists
from sync_server.storage.models import ROLES, Role, User

_hasher = PasswordHasher()
# Checked when the user does not exist: a wrong username costs the time of a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password")


def _user(row: Any) -> User:
    return User(username=row.username, role=row.role, services=list(row.services or []))


def create(
    connection: Connection,
    *,
    username: str,
    password: str,
    role: Role,
    services: list[str],
    now: datetime,
) -> User:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if get(connection, username) is not None:
        raise UserExists(username)
    connection.execute(
        schema.users.insert().values(
            username=username,
            password_hash=_hasher.hash(password),
            role=role,
            services=services,
            created_at=now,
        )
    )
    return User(username=username, role=role, services=services)


def get(connection: Connection, username: str) -> User | None:
    row = connection.execute(
        sa.select(schema.users).where(schema.users.c.username == username)
    ).first()
    return None if row is None else _user(row)


def authenticate(connection: Connection, username: str, password: str) -> User | None:
    row = connection.execute(
        sa.select(schema.users).where(schema.users.c.username == username)
    ).first()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return None if row is None else _user(row)
