"""Retention: what the server keeps about people, kept no longer than its period, while every
figure stays exactly as it was.

- A visitor's free text (the comment, a text answer) and the register's reply to it are emptied
  once the entry was last handled (received, acknowledged, answered or closed) longer than the
  free-text retention ago. The comment row stays, marked `purged_at`, with its desk, time,
  category and register dates: counts of comments, the register's deadlines and every indicator
  read the same rows as before.
- The records log keeps each record with those texts removed from its payload, and the
  `payload_hash` it was received with: a device that sends the record again is told it is a
  duplicate, as before, never a conflict.
- Payloads kept in quarantine (same id, other payload) lose their texts after the same period.
- Contact details a visitor left to be answered are deleted once their entry has been closed
  longer than the contact retention (or the period the visitor was told, if shorter), and at the
  latest with the entry's text.
- Heartbeat history, dashboard sessions no longer live and failed sign-ins older than the
  lock-out window (they hold a client address) are deleted.

Each step is one write transaction that finds inside it what is due (writes never interleave):
server processes purging at once purge each row once, and purging again finds nothing.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from qualivilles.protocol import canonical_json
from qualivilles.survey import QuestionType
from sync_server.storage import (
    audit,
    login_failures,
    phone_limits,
    projection,
    schema,
    sessions,
    surveys,
)
from sync_server.storage.db import select_where_in

if TYPE_CHECKING:
    from sync_server.storage.transactions import Storage

# Comments emptied per write transaction: uploads wait for one step at most.
STEP = 1_000


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day when it is
    shorter: 31 March less one month is 28 or 29 February)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@dataclass(frozen=True)
class Policy:
    """How long each kind of data is kept (from the settings, see `sync_server.retention`)."""

    free_text_months: int
    heartbeat_days: int
    session_lifetime: sessions.Lifetime
    login_failure_window: timedelta
    contact_days: int = 90  # after the entry is closed

    def free_texts_before(self, now: datetime) -> datetime:
        return months_before(now, self.free_text_months)


@dataclass(frozen=True)
class Purged:
    """What a purge removed (or, dry, would remove), by kind."""

    comments: int = 0  # visitors' comments and text answers emptied
    replies: int = 0  # register replies emptied
    records: int = 0  # records in the log whose payload lost its texts
    quarantined: int = 0  # quarantined payloads that lost their texts
    heartbeats: int = 0
    sessions: int = 0
    login_failures: int = 0
    contacts: int = 0  # visitors' contact details deleted

    def __add__(self, other: Purged) -> Purged:
        return Purged(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def counts(self) -> list[tuple[str, int]]:
        """(kind, count) in a fixed order."""
        return [(f.name, getattr(self, f.name)) for f in fields(self)]

    @property
    def total(self) -> int:
        return sum(count for _kind, count in self.counts())


def purge(
    storage: Storage,
    now: datetime,
    policy: Policy,
    *,
    dry_run: bool = False,
    step: int = STEP,
    actor: audit.Actor = audit.SERVER,
) -> Purged:
    """Remove what is past its retention at `now` (nothing with `dry_run`, which counts what
    would go), `step` comments per write transaction; returns the counts. Idempotent, and safe in
    several processes at once. A purge that emptied texts is recorded in the audit trail, by
    `actor`, with its counts."""
    if dry_run:
        with storage.read() as connection:
            return due(connection, now, policy)
    # A text logged but not projected yet is purged too (by the next purge when another process
    # is projecting it right now).
    projection.catch_up(storage)
    with storage.write() as connection:
        done = _purge_rows(connection, now, policy)
    while True:
        with storage.write() as connection:
            texts = purge_texts(connection, policy.free_texts_before(now), now, step)
        done += texts
        if texts.comments < step:
            break
    with storage.write() as connection:
        done += Purged(contacts=purge_contacts(connection, now, policy))
    if done.comments or done.quarantined or done.contacts:
        with storage.write() as connection:
            audit.record(connection, actor, "data.purged", None, dict(done.counts()), now=now)
    return done


def due(connection: Connection, now: datetime, policy: Policy) -> Purged:
    """What `purge` would remove at `now`, counted without changing anything."""
    texts = _due_texts(connection, policy.free_texts_before(now), limit=None)
    return Purged(
        comments=len(texts),
        replies=sum(1 for text in texts if text.has_reply),
        records=len({text.answer_id for text in texts}),
        quarantined=len(_quarantine_changes(connection, policy.free_texts_before(now))),
        heartbeats=_count(connection, _old_heartbeats(now, policy)),
        sessions=_count(connection, _stale_sessions(now, policy)),
        login_failures=_count(connection, _old_failures(now, policy)),
        contacts=len(_due_contacts(connection, now, policy, texts_too=True)),
    )


# -- contact details ----------------------------------------------------------------------------


def _due_contacts(
    connection: Connection, now: datetime, policy: Policy, *, texts_too: bool = False
) -> list[int]:
    """The entries whose contact details are past their retention at `now`: closed longer ago
    than the shorter of the policy's and the visitor's period, or whose text is emptied (with
    `texts_too`, also those whose text is due to be emptied now)."""
    c, r, k = schema.comments, schema.comment_register, schema.register_contacts
    rows = connection.execute(
        sa.select(k.c.comment_id, k.c.retention_days, r.c.closed_at, c.c.purged_at)
        .select_from(
            k.join(c, c.c.id == k.c.comment_id).outerjoin(r, r.c.comment_id == k.c.comment_id)
        )
        .where(sa.or_(r.c.closed_at.is_not(None), c.c.purged_at.is_not(None)))
    )
    due = [
        comment_id
        for comment_id, days, closed_at, purged_at in rows
        if purged_at is not None
        or closed_at + timedelta(days=min(days, policy.contact_days)) <= now
    ]
    if texts_too:
        emptied = {
            text.comment_id for text in _due_texts(connection, policy.free_texts_before(now), None)
        }
        with_contact = connection.scalars(sa.select(k.c.comment_id)).all()
        due += [comment_id for comment_id in with_contact if comment_id in emptied]
    return sorted(set(due))


def purge_contacts(connection: Connection, now: datetime, policy: Policy) -> int:
    """Delete the contact details past their retention (one write transaction); how many."""
    due = _due_contacts(connection, now, policy)
    if not due:
        return 0
    k = schema.register_contacts
    return int(connection.execute(k.delete().where(k.c.comment_id.in_(due))).rowcount)


# -- free texts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DueText:
    comment_id: int
    answer_id: str
    question_id: str | None
    has_reply: bool


def _due_texts(connection: Connection, before: datetime, limit: int | None) -> list[_DueText]:
    """Comments not purged yet, received and last handled before `before`, oldest first."""
    c, r = schema.comments, schema.comment_register
    query = (
        sa.select(c.c.id, c.c.answer_id, c.c.question_id, r.c.reply.is_not(None))
        .select_from(c.outerjoin(r, r.c.comment_id == c.c.id))
        .where(
            c.c.purged_at.is_(None),
            c.c.captured_at < before,
            sa.or_(r.c.updated_at.is_(None), r.c.updated_at < before),
        )
        .order_by(c.c.id)
        .limit(limit)
    )
    return [_DueText(row[0], row[1], row[2], bool(row[3])) for row in connection.execute(query)]


def purge_texts(
    connection: Connection, before: datetime, now: datetime, limit: int = STEP
) -> Purged:
    """Empty up to `limit` comments last handled before `before`, their register replies and
    their texts in the records log (one write transaction)."""
    texts = _due_texts(connection, before, limit)
    if not texts:
        return Purged()
    c, r = schema.comments, schema.comment_register
    ids = [text.comment_id for text in texts]
    connection.execute(c.update().where(c.c.id.in_(ids)).values(text="", purged_at=now))
    replies = [text.comment_id for text in texts if text.has_reply]
    if replies:
        connection.execute(r.update().where(r.c.comment_id.in_(replies)).values(reply=None))
    return Purged(
        comments=len(texts), replies=len(replies), records=_strip_records(connection, texts)
    )


def _strip_records(connection: Connection, texts: list[_DueText]) -> int:
    """Remove the purged texts from their records' payloads; the stored hash stays as received.
    Returns how many payloads changed."""
    by_answer: dict[str, list[str | None]] = {}
    for text in texts:
        by_answer.setdefault(text.answer_id, []).append(text.question_id)
    r = schema.records
    rows = select_where_in(connection, r, ("id", "payload"), "id", by_answer)
    changed = []
    for record_id, payload in rows:
        data = json.loads(payload)
        for question_id in by_answer[record_id]:
            if question_id is None:
                data.pop("comment", None)
            else:
                (data.get("answers") or {}).pop(question_id, None)
        stripped = canonical_json(data)
        if stripped != payload:
            changed.append({"r_id": record_id, "r_payload": stripped})
    if changed:
        statement = (
            r.update()
            .where(r.c.id == sa.bindparam("r_id"))
            .values(payload=sa.bindparam("r_payload"))
        )
        connection.execute(statement, changed)
    return len(changed)


def without_texts(payload: str, text_questions: Iterable[str] | None) -> str:
    """An answer payload (JSON) without its comment nor its answers to `text_questions` (None:
    not known, so without any answer). Any other payload comes back unchanged; one that is not
    JSON comes back as `{}`."""
    try:
        data = json.loads(payload)
    except ValueError:
        return "{}"
    if not isinstance(data, dict) or "survey_id" not in data:
        return payload
    stripped = {key: value for key, value in data.items() if key != "comment"}
    answers = stripped.get("answers")
    if text_questions is None:
        stripped.pop("answers", None)
    elif isinstance(answers, dict):
        texts = set(text_questions)
        stripped["answers"] = {key: value for key, value in answers.items() if key not in texts}
    return payload if stripped == data else canonical_json(stripped)


def _text_questions(connection: Connection, payload: str) -> list[str] | None:
    try:
        data = json.loads(payload)
        survey = surveys.remembered(connection, str(data["survey_id"]), int(data["survey_version"]))
    except (ValueError, TypeError, KeyError):
        return None
    if survey is None:
        return None
    return [q.id for q in survey.questions if q.type == QuestionType.TEXT]


def _quarantine_changes(connection: Connection, before: datetime) -> list[dict[str, Any]]:
    """The quarantined payloads received before `before` that still hold a text, stripped."""
    q = schema.quarantine
    rows = connection.execute(sa.select(q.c.id, q.c.payload).where(q.c.received_at < before))
    changes = []
    for row_id, payload in rows:
        stripped = without_texts(payload, _text_questions(connection, payload))
        if stripped != payload:
            changes.append({"q_id": row_id, "q_payload": stripped})
    return changes


# -- rows deleted -------------------------------------------------------------------------------


def _old_heartbeats(now: datetime, policy: Policy) -> tuple[sa.Table, sa.ColumnElement[bool]]:
    table = schema.heartbeats
    return table, table.c.received_at < now - timedelta(days=policy.heartbeat_days)


def _stale_sessions(now: datetime, policy: Policy) -> tuple[sa.Table, sa.ColumnElement[bool]]:
    return schema.sessions, sessions.stale(now, policy.session_lifetime)


def _old_failures(now: datetime, policy: Policy) -> tuple[sa.Table, sa.ColumnElement[bool]]:
    table = schema.login_failures
    return table, table.c.failed_at <= now - policy.login_failure_window


def _count(connection: Connection, rows: tuple[sa.Table, sa.ColumnElement[bool]]) -> int:
    table, condition = rows
    return int(connection.scalar(sa.select(sa.func.count()).select_from(table).where(condition)))


def _delete(connection: Connection, rows: tuple[sa.Table, sa.ColumnElement[bool]]) -> int:
    table, condition = rows
    return int(connection.execute(table.delete().where(condition)).rowcount)


def _purge_rows(connection: Connection, now: datetime, policy: Policy) -> Purged:
    """Quarantined texts, heartbeats, sessions and sign-in failures past their retention."""
    changes = _quarantine_changes(connection, policy.free_texts_before(now))
    if changes:
        q = schema.quarantine
        statement = (
            q.update()
            .where(q.c.id == sa.bindparam("q_id"))
            .values(payload=sa.bindparam("q_payload"))
        )
        connection.execute(statement, changes)
    # The salts of failures and phone counters long purged: without them nothing leads back to
    # a name or an address.
    login_failures.forget_old_salts(connection, now)
    phone_limits.forget_stale(connection, now)
    return Purged(
        quarantined=len(changes),
        heartbeats=_delete(connection, _old_heartbeats(now, policy)),
        sessions=_delete(connection, _stale_sessions(now, policy)),
        login_failures=_delete(connection, _old_failures(now, policy)),
    )
