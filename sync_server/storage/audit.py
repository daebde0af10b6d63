"""The audit trail: who did what and when to accounts, surveys, targets, the register, the
improvement plan, the referential, the internal audits, tokens and devices, who signed in and
out, who downloaded which export or report.

`record` writes one event with the connection of the write transaction that makes the change,
so a change is never recorded without happening, nor happens unrecorded; a download is
recorded before its file is sent. The database refuses to update or delete an event (triggers
of migration `0014_audit_trail`, on both engines).

An event names its object by an identifier (a user name, a survey id and version, a register
entry's or a token's number, a device id) and keeps small before/after values in `details`:
never a password, a secret, an enrolment code or a visitor's text (`record` refuses keys and
values that would hold one).

Quality managers are told of every new quality manager (an account created with that role, given
it, or enabled again with it) on their overview, until they acknowledge it or for
`NOTICE_DAYS` days (`notices`, `acknowledge`).
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sync_server.storage import schema
from sync_server.storage.api_tokens import PREFIX as API_TOKEN_PREFIX
from sync_server.storage.db import utcnow
from sync_server.storage.models import User

ActorKind = Literal["user", "cli", "device", "system"]

# Every action code, by the kind of action it belongs to (the audit page's filter).
KINDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "accounts": (
            "account.created",
            "account.access_changed",
            "account.password_reset",
            "account.disabled",
            "account.enabled",
            "account.password_changed",
        ),
        "sessions": (
            "session.signed_in",
            "session.signed_out",
            "session.locked_out",
            "session.unlocked",
        ),
        "surveys": ("survey.published", "survey.put_in_use"),
        "targets": ("target.set",),
        "register": (
            "register.categorised",
            "register.acknowledged",
            "register.answered",
            "register.closed",
            "register.contact_left",
            "register.contact_erased",
        ),
        "triage": ("triage.released", "triage.kept_hidden", "triage.names_changed"),
        "actions": (
            "action.recorded",
            "action.proposed",
            "action.edited",
            "action.validated",
            "action.status_changed",
        ),
        "referential": (
            "referential.engagement_saved",
            "referential.scope_changed",
            "referential.indicator_tied",
        ),
        "internal_audits": (
            "internal_audit.planned",
            "internal_audit.status_changed",
            "internal_audit.finding_recorded",
        ),
        "mystery": ("mystery.recorded", "mystery.criterion_saved"),
        "meetings": (
            "meeting.planned",
            "meeting.minutes_saved",
            "meeting.decision_recorded",
            "meeting.closed",
        ),
        "downloads": ("export.downloaded", "report.downloaded", "audit.exported"),
        "tokens": ("token.created", "token.revoked"),
        "devices": ("device.code_issued", "device.enrolled", "device.revoked"),
        "town": ("town.loaded",),
        "notices": ("notice.acknowledged",),
        "retention": ("data.purged",),
    }
)
ACTIONS: Mapping[str, str] = MappingProxyType(
    {action: kind for kind, actions in KINDS.items() for action in actions}
)

QUALITY_MANAGER = "quality_manager"
# How long a notice of a new quality manager stays on the overview without acknowledgement;
# the event itself stays on the audit page.
NOTICE_DAYS = 30
_GRANTING = ("account.created", "account.access_changed", "account.enabled")

MAX_OBJECT_LENGTH = 200
MAX_DETAILS_LENGTH = 2000
# Keys that would name something secret or a person's words; identifiers go in `object`.
FORBIDDEN_KEYS = frozenset(
    {"password", "secret", "token", "code", "hash", "text", "reply", "comment", "action"}
)
# A personal API token's start: such a value is never written.
_SECRET_STARTS = (API_TOKEN_PREFIX,)


class UnsafeDetails(ValueError):
    """`details` would hold a secret or free text, or is too large; nothing is written."""


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user (with their role at the time), the command line (with the
    operating system's user), an enrolling device, or the server itself."""

    kind: ActorKind
    name: str
    role: str | None = None


def by_user(user: User) -> Actor:
    return Actor("user", user.username, user.role)


def command_line() -> Actor:
    """The operator at the command line, named by their operating system account."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError):  # no login name in a bare container
        name = "?"
    return Actor("cli", name[:100])


def by_device(device_id: str) -> Actor:
    return Actor("device", device_id)


SERVER = Actor("system", "server")
# An anonymous visitor of the phone survey (who leaves contact details to be answered).
VISITOR = Actor("system", "visitor")


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: datetime
    actor: Actor
    action: str
    object: str | None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return ACTIONS.get(self.action, "")


def change(before: Any, after: Any) -> dict[str, Any]:
    """A detail that changed: `{"before": …, "after": …}`."""
    return {"before": before, "after": after}


# -- rules (pure) ---------------------------------------------------------------------------


def check_details(details: Mapping[str, Any]) -> str:
    """`details` as the JSON stored; UnsafeDetails if a key is one of `FORBIDDEN_KEYS`, a value
    looks like a token, or the whole is longer than `MAX_DETAILS_LENGTH`."""

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                if not isinstance(key, str) or key.lower() in FORBIDDEN_KEYS:
                    raise UnsafeDetails(f"detail key {key!r} not allowed")
                walk(inner)
        elif isinstance(value, list | tuple):
            for inner in value:
                walk(inner)
        elif isinstance(value, str):
            if value.startswith(_SECRET_STARTS):
                raise UnsafeDetails("a detail looks like a token")
        elif value is not None and not isinstance(value, int | float | bool):
            raise UnsafeDetails(f"detail of type {type(value).__name__} not allowed")

    walk(details)
    text = json.dumps(details, ensure_ascii=False, sort_keys=True)
    if len(text) > MAX_DETAILS_LENGTH:
        raise UnsafeDetails("details too long")
    return text


def survey_name(key: tuple[str, int] | None) -> str | None:
    """A survey version as events name it: "id vN"."""
    return None if key is None else f"{key[0]} v{key[1]}"


def asked(value: str | None, limit: int = 63) -> str | None:
    """A value a user typed in an address or a form (a service filter…) as an event may keep
    it: without NUL, at most `limit` characters, and "?" for anything shaped like a token."""
    if value is None:
        return None
    value = value.replace("\x00", "")
    return "?" if value.startswith(_SECRET_STARTS) else value[:limit]


def grants_quality_manager(event: AuditEvent) -> bool:
    """Whether the event made an account a quality manager's: created with the role, given it,
    or enabled again with it."""
    role = event.details.get("role")
    if event.action in ("account.created", "account.enabled"):
        return role == QUALITY_MANAGER
    if event.action == "account.access_changed" and isinstance(role, Mapping):
        return role.get("after") == QUALITY_MANAGER and role.get("before") != QUALITY_MANAGER
    return False


# -- writing --------------------------------------------------------------------------------


def record(
    connection: Connection,
    actor: Actor,
    action: str,
    object: str | None = None,
    details: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> int:
    """Append one event in the caller's transaction; its id. ValueError for an action code not
    in `ACTIONS`, UnsafeDetails for details that could hold a secret."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    text = check_details(details) if details else None
    if object is not None and object.startswith(_SECRET_STARTS):
        raise UnsafeDetails("an object looks like a token")
    inserted = connection.execute(
        schema.audit_events.insert().values(
            at=now or utcnow(),
            actor_kind=actor.kind,
            actor=actor.name[:100],
            actor_role=actor.role,
            action=action,
            object=None if object is None else object[:MAX_OBJECT_LENGTH],
            details=text,
        )
    )
    return int(inserted.inserted_primary_key[0])


# -- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """Which events: in [start, end), of one kind of action, by one person (actor name)."""

    start: datetime | None = None
    end: datetime | None = None
    kind: str | None = None
    actor: str | None = None


def _event(row: Any) -> AuditEvent:
    try:
        details = json.loads(row.details) if row.details else {}
    except ValueError:
        details = {}
    return AuditEvent(
        id=row.id,
        at=row.at,
        actor=Actor(row.actor_kind, row.actor, row.actor_role),
        action=row.action,
        object=row.object,
        details=details if isinstance(details, dict) else {},
    )


def _where(query: sa.Select[Any], chosen: Filter) -> sa.Select[Any]:
    table = schema.audit_events
    if chosen.start is not None:
        query = query.where(table.c.at >= chosen.start)
    if chosen.end is not None:
        query = query.where(table.c.at < chosen.end)
    if chosen.kind is not None:
        query = query.where(table.c.action.in_(KINDS.get(chosen.kind, ())))
    if chosen.actor is not None:
        query = query.where(table.c.actor == chosen.actor)
    return query


def events(
    connection: Connection, chosen: Filter = Filter(), limit: int = 50, offset: int = 0
) -> list[AuditEvent]:
    """The chosen events, newest first."""
    table = schema.audit_events
    query = _where(sa.select(table), chosen).order_by(table.c.at.desc(), table.c.id.desc())
    return [_event(row) for row in connection.execute(query.limit(limit).offset(offset))]


def count(connection: Connection, chosen: Filter = Filter()) -> int:
    query = _where(sa.select(sa.func.count()).select_from(schema.audit_events), chosen)
    return int(connection.scalar(query) or 0)


def actors(connection: Connection) -> list[str]:
    """Every name that acted, in alphabetical order (the audit page's person filter)."""
    table = schema.audit_events
    return list(connection.scalars(sa.select(table.c.actor).distinct().order_by(table.c.actor)))


# -- the quality managers' notices ----------------------------------------------------------


def notices(
    connection: Connection, username: str, now: datetime | None = None, days: int = NOTICE_DAYS
) -> list[AuditEvent]:
    """The new quality managers `username` has not acknowledged, of the last `days` days,
    newest first; an account is never told of itself."""
    table, seen = schema.audit_events, schema.audit_notices_seen
    last = connection.scalar(sa.select(seen.c.last_event_id).where(seen.c.username == username))
    query = (
        sa.select(table)
        .where(
            table.c.action.in_(_GRANTING),
            table.c.at >= (now or utcnow()) - timedelta(days=days),
            table.c.id > (last or 0),
            sa.or_(table.c.object.is_(None), table.c.object != username),
        )
        .order_by(table.c.id.desc())
    )
    return [e for e in map(_event, connection.execute(query)) if grants_quality_manager(e)]


def acknowledge(
    connection: Connection, username: str, up_to: int, now: datetime | None = None
) -> bool:
    """Hide `username`'s notices up to event `up_to` (those shown to them); a later notice
    still shows. False if nothing was left to acknowledge."""
    seen = schema.audit_notices_seen
    last = connection.scalar(sa.select(seen.c.last_event_id).where(seen.c.username == username))
    newest = connection.scalar(sa.select(sa.func.max(schema.audit_events.c.id))) or 0
    up_to = min(up_to, newest)
    if last is not None and up_to <= last:
        return False
    values = {"last_event_id": up_to, "seen_at": now or utcnow()}
    if last is None:
        connection.execute(seen.insert().values(username=username, **values))
    else:
        connection.execute(seen.update().where(seen.c.username == username).values(**values))
    return True
