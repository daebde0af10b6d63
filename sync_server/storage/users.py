"""Dashboard users; passwords hashed with Argon2id.

A disabled account stays in the table (its name is not reused) but is invisible to `get` and
`authenticate`: it cannot sign in, and a session naming it no longer finds its user.
The account rules (username shape, password length, role and services, at least one active
administrator) are checked here, so the admin page and any later caller apply the same ones.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection

from sync_server.storage import schema
from sync_server.storage.db import utcnow
from sync_server.storage.errors import StorageError, UserExists
from sync_server.storage.models import ROLES, Role, User

_hasher = PasswordHasher()
# Checked when the user does not exist: a wrong username costs the time of a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password")

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200  # the sign-in form refuses longer ones (web/login.py MAX_FIELD)
MAX_USERNAME_LENGTH = 100
# Letters, digits and . _ @ - : safe in a URL, a log line and an e-mail-like login.
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]*")
# No 0/O, 1/l/I: a generated password is read aloud or copied from a screen.
_GENERATED_CHARS = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class InvalidAccount(StorageError, ValueError):
    """What was sent cannot become an account; `code` names the rule it breaks."""

    def __init__(self, code: str, detail: str = ""):
        self.code = code
        super().__init__(f"{code}: {detail}" if detail else code)


class UnknownUser(StorageError):
    pass


class LastActiveAdmin(StorageError):
    """The change would leave no active administrator to manage accounts and devices."""


@dataclass(frozen=True)
class Account:
    """A user as the administrator sees it, disabled or not."""

    username: str
    role: Role
    services: tuple[str, ...]
    created_at: datetime
    disabled_at: datetime | None
    password_changed_at: datetime | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


# -- rules (pure) ---------------------------------------------------------------------------


def check_username(username: str) -> str:
    """The username without surrounding spaces; InvalidAccount if empty or badly shaped."""
    username = username.strip()
    if not username:
        raise InvalidAccount("username_empty")
    if len(username) > MAX_USERNAME_LENGTH or not USERNAME.fullmatch(username):
        raise InvalidAccount("username_invalid", username[:MAX_USERNAME_LENGTH])
    return username


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidAccount("password_short")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidAccount("password_long")


def check_access(role: str, services: Iterable[str], known: set[str]) -> tuple[Role, list[str]]:
    """The role and the services it keeps: a service manager needs known services, the other
    roles see every service, so theirs are dropped."""
    if role not in ROLES:
        raise InvalidAccount("role", role[:40])
    wanted = list(dict.fromkeys(s for s in services if s))
    if role != "service_manager":
        return cast(Role, role), []
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise InvalidAccount("service_unknown", ", ".join(unknown)[:100])
    if not wanted:
        raise InvalidAccount("services_missing")
    return "service_manager", wanted


def generate_password(groups: int = 4, size: int = 5) -> str:
    """A random password of `groups` × `size` unambiguous characters (about 115 bits)."""
    return "-".join(
        "".join(secrets.choice(_GENERATED_CHARS) for _ in range(size)) for _ in range(groups)
    )


# -- rows -----------------------------------------------------------------------------------


def _user(row: Any) -> User:
    return User(username=row.username, role=row.role, services=list(row.services or []))


def _account(row: Any) -> Account:
    return Account(
        username=row.username,
        role=row.role,
        services=tuple(row.services or []),
        created_at=row.created_at,
        disabled_at=row.disabled_at,
        password_changed_at=row.password_changed_at,
    )


def _row(connection: Connection, username: str) -> Any:
    return connection.execute(
        sa.select(schema.users).where(schema.users.c.username == username)
    ).first()


def create(
    connection: Connection,
    *,
    username: str,
    password: str,
    role: Role,
    services: list[str] | None = None,
    now: datetime | None = None,
) -> User:
    """A new user; only its role and a free name are checked (`create_account` applies every
    account rule)."""
    services = services or []
    now = now or utcnow()
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if _row(connection, username) is not None:
        raise UserExists(username)
    connection.execute(
        schema.users.insert().values(
            username=username,
            password_hash=_hasher.hash(password),
            role=role,
            services=services,
            created_at=now,
            password_changed_at=now,
        )
    )
    return User(username=username, role=role, services=services)


def get(connection: Connection, username: str) -> User | None:
    """The active user of that name; None if unknown or disabled."""
    row = _row(connection, username)
    return None if row is None or row.disabled_at is not None else _user(row)


def authenticate(connection: Connection, username: str, password: str) -> User | None:
    row = _row(connection, username)
    try:
        # Verified even for a disabled account, so the time taken does not tell it apart.
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return None if row is None or row.disabled_at is not None else _user(row)


# -- the administrator's operations ----------------------------------------------------------


def known_services(connection: Connection) -> set[str]:
    return set(connection.scalars(sa.select(schema.services.c.slug)))


def accounts(connection: Connection) -> list[Account]:
    """Every account, disabled ones included, by username."""
    rows = connection.execute(sa.select(schema.users).order_by(schema.users.c.username))
    return [_account(row) for row in rows]


def account(connection: Connection, username: str) -> Account | None:
    row = _row(connection, username)
    return None if row is None else _account(row)


def create_account(
    connection: Connection,
    *,
    username: str,
    password: str,
    role: str,
    services: Iterable[str],
    now: datetime | None = None,
) -> Account:
    """A new active account after every rule; UserExists also for a name differing in case."""
    username = check_username(username)
    role_, services_ = check_access(role, services, known_services(connection))
    check_password(password)
    same = connection.scalar(
        sa.select(schema.users.c.username).where(
            sa.func.lower(schema.users.c.username) == username.lower()
        )
    )
    if same is not None:
        raise UserExists(same)
    create(
        connection, username=username, password=password, role=role_, services=services_, now=now
    )
    return _account(_row(connection, username))


def _existing(connection: Connection, username: str) -> Any:
    row = _row(connection, username)
    if row is None:
        raise UnknownUser(username)
    return row


def _keep_an_active_admin(connection: Connection, username: str) -> None:
    """LastActiveAdmin unless an active administrator other than `username` remains."""
    users = schema.users
    others = connection.scalar(
        sa.select(sa.func.count())
        .select_from(users)
        .where(
            users.c.role == "admin",
            users.c.disabled_at.is_(None),
            users.c.username != username,
        )
    )
    if not others:
        raise LastActiveAdmin(username)


def set_access(
    connection: Connection, username: str, role: str, services: Iterable[str]
) -> Account:
    """Change the role and services; the role is read again on every request, at once."""
    row = _existing(connection, username)
    role_, services_ = check_access(role, services, known_services(connection))
    if row.role == "admin" and role_ != "admin" and row.disabled_at is None:
        _keep_an_active_admin(connection, username)
    connection.execute(
        schema.users.update()
        .where(schema.users.c.username == username)
        .values(role=role_, services=services_)
    )
    return _account(_row(connection, username))


def set_password(
    connection: Connection, username: str, password: str, now: datetime | None = None
) -> None:
    _existing(connection, username)
    check_password(password)
    connection.execute(
        schema.users.update()
        .where(schema.users.c.username == username)
        .values(password_hash=_hasher.hash(password), password_changed_at=now or utcnow())
    )


def set_disabled(
    connection: Connection, username: str, disabled: bool, now: datetime | None = None
) -> Account:
    """Disable (sign-in and open sessions refused) or enable an account again."""
    row = _existing(connection, username)
    if disabled and row.role == "admin" and row.disabled_at is None:
        _keep_an_active_admin(connection, username)
    if disabled != (row.disabled_at is not None):
        connection.execute(
            schema.users.update()
            .where(schema.users.c.username == username)
            .values(disabled_at=(now or utcnow()) if disabled else None)
        )
    return _account(_row(connection, username))
