"""Dashboard users; passwords hashed with Argon2id.

A disabled account stays in the table (its name is not reused) but is invisible to `get` and
`authenticate`: it cannot sign in. Disabling it, resetting its password or changing its role or
services ends every open session of it (`storage.sessions`), in the same transaction; enabling
it again revives none. A password an administrator chooses (a new account's, a reset) is
temporary: its owner must replace it with one of their own before any page opens
(`change_own_password`, which needs the current one). The account rules (username shape,
password strength, role and services, at least one active administrator) are checked here, so
the admin page, the command line and any later caller apply the same ones.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection
from zxcvbn import zxcvbn

from sync_server.storage import schema, sessions
from sync_server.storage import town as town_config
from sync_server.storage.db import utcnow
from sync_server.storage.errors import StorageError, UserExists
from sync_server.storage.models import ROLES, Role, User

# Argon2id with RFC 9106's second recommended profile ("low memory"): 64 MiB, 3 passes,
# 4 lanes, 16-byte salt, 32-byte hash; about 50 ms on a small server, which also bounds how fast
# the login page can be tried. Named here so that a new argon2-cffi cannot change it unseen.
_hasher = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
# Checked when the user does not exist: a wrong username costs the time of a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password")

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200  # the sign-in form refuses longer ones (web/login.py MAX_FIELD)
# zxcvbn's score (0 to 4) a password must reach: 3 is "safely unguessable", about 10^10 guesses.
MIN_PASSWORD_SCORE = 3
# zxcvbn reads at most this many characters; a longer password is judged on its beginning.
_SCORED_LENGTH = 72
# Words a town's staff would reach for, checked with the user name and the town's name.
PRODUCT_WORDS = (
    "qualivilles", "qualiville", "qualite", "accueil", "mairie", "ville", "hotel de ville",
    "satisfaction", "borne", "tableau de bord", "administrateur", "admin", "responsable",
    "service", "usager", "motdepasse",
)  # fmt: skip
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
    must_change_password: bool = False

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


def check_password(password: str, context: Iterable[str] = ()) -> None:
    """InvalidAccount unless `password` has 12 to 200 characters and is hard to guess even
    knowing `context` (the user name, the town's name): zxcvbn's score of at least 3, which
    refuses common passwords, keyboard walks, repetitions, dates and the context's words."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidAccount("password_short")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidAccount("password_long")
    words = password_context(context)
    if zxcvbn(password[:_SCORED_LENGTH], user_inputs=words)["score"] < MIN_PASSWORD_SCORE:
        raise InvalidAccount("password_weak")


def password_context(names: Iterable[str]) -> list[str]:
    """`names` and the product's words as zxcvbn's own dictionary: each name whole, without
    accents, and in its parts ("Issy-les-Moulineaux": "issy", "moulineaux"…)."""
    words: list[str] = list(PRODUCT_WORDS)
    for name in names:
        plain = unicodedata.normalize("NFD", name.lower())
        plain = "".join(c for c in plain if not unicodedata.combining(c))
        words += [name.lower(), plain, *(part for part in re.split(r"[^a-z0-9]+", plain) if part)]
    return list(dict.fromkeys(word for word in words if word))


def _context(connection: Connection, username: str) -> list[str]:
    return [username, town_config.town_name(connection) or ""]


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
    return User(
        username=row.username,
        role=row.role,
        services=list(row.services or []),
        must_change_password=bool(row.must_change_password),
    )


def _account(row: Any) -> Account:
    return Account(
        username=row.username,
        role=row.role,
        services=tuple(row.services or []),
        created_at=row.created_at,
        disabled_at=row.disabled_at,
        password_changed_at=row.password_changed_at,
        must_change_password=bool(row.must_change_password),
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
    temporary: bool = False,
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
            must_change_password=temporary,
        )
    )
    return User(username=username, role=role, services=services, must_change_password=temporary)


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


def refresh_hash(connection: Connection, username: str, password: str) -> bool:
    """After a successful sign-in with `password`: store its hash again with today's parameters
    when the stored one was made with others (an older release's, an imported account's). Not a
    password change: its date and the open sessions stay. True when the hash was replaced."""
    row = _row(connection, username)
    if row is None or not _hasher.check_needs_rehash(row.password_hash):
        return False
    connection.execute(
        schema.users.update()
        .where(schema.users.c.username == username)
        .values(password_hash=_hasher.hash(password))
    )
    return True


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
    temporary: bool = False,
) -> Account:
    """A new active account after every rule; UserExists also for a name differing in case.
    `temporary`: the password was chosen for its owner, who must replace it at sign-in."""
    username = check_username(username)
    role_, services_ = check_access(role, services, known_services(connection))
    check_password(password, _context(connection, username))
    same = connection.scalar(
        sa.select(schema.users.c.username).where(
            sa.func.lower(schema.users.c.username) == username.lower()
        )
    )
    if same is not None:
        raise UserExists(same)
    create(
        connection,
        username=username,
        password=password,
        role=role_,
        services=services_,
        now=now,
        temporary=temporary,
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
    """Change the role and services; a change ends the account's open sessions."""
    row = _existing(connection, username)
    role_, services_ = check_access(role, services, known_services(connection))
    if row.role == "admin" and role_ != "admin" and row.disabled_at is None:
        _keep_an_active_admin(connection, username)
    if (row.role, list(row.services or [])) != (role_, services_):
        connection.execute(
            schema.users.update()
            .where(schema.users.c.username == username)
            .values(role=role_, services=services_)
        )
        sessions.end_all(connection, username)
    return _account(_row(connection, username))


def set_password(
    connection: Connection,
    username: str,
    password: str,
    now: datetime | None = None,
    temporary: bool = False,
) -> None:
    """A new password, after the password rule; ends the account's open sessions.
    `temporary`: chosen for its owner (an administrator's reset), who must replace it."""
    _existing(connection, username)
    _store_password(connection, username, password, now, temporary)
    sessions.end_all(connection, username)


def _store_password(
    connection: Connection, username: str, password: str, now: datetime | None, temporary: bool
) -> None:
    """After the password rule: the new hash, its date, and whether its owner must replace it."""
    check_password(password, _context(connection, username))
    connection.execute(
        schema.users.update()
        .where(schema.users.c.username == username)
        .values(
            password_hash=_hasher.hash(password),
            password_changed_at=now or utcnow(),
            must_change_password=temporary,
        )
    )


class WrongPassword(StorageError):
    """The current password given to change one's own is not the account's."""


class SamePassword(InvalidAccount):
    def __init__(self) -> None:
        super().__init__("password_unchanged")


def change_own_password(
    connection: Connection,
    username: str,
    current: str,
    new: str,
    keep_session: str | None = None,
    now: datetime | None = None,
) -> None:
    """The user replaces their password: the current one must verify (WrongPassword), the new
    one must differ from it and follow the password rule (InvalidAccount). Every other session
    of the account ends; `keep_session` (the id of the one making the change) stays open."""
    row = _existing(connection, username)
    if row.disabled_at is not None:
        raise UnknownUser(username)
    try:
        _hasher.verify(row.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise WrongPassword(username) from None
    if new == current:
        raise SamePassword()
    _store_password(connection, username, new, now, temporary=False)
    sessions.end_all(connection, username, keep=keep_session)


def set_disabled(
    connection: Connection, username: str, disabled: bool, now: datetime | None = None
) -> Account:
    """Disable (sign-in refused, open sessions ended) or enable an account again (its old
    sessions stay ended)."""
    row = _existing(connection, username)
    if disabled and row.role == "admin" and row.disabled_at is None:
        _keep_an_active_admin(connection, username)
    if disabled:
        sessions.end_all(connection, username)
    if disabled != (row.disabled_at is not None):
        connection.execute(
            schema.users.update()
            .where(schema.users.c.username == username)
            .values(disabled_at=(now or utcnow()) if disabled else None)
        )
    return _account(_row(connection, username))
