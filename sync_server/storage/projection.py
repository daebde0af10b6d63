"""The figures' tables, projected from the `records` log.

Accepting a batch (`ingest.py`) appends to the log, notes each new record as pending
(`records_pending`) in the same transaction, and acknowledges; this module turns the pending
records into what the indicators read: answers, their items and free texts, visit events, the
visits folded from them, and the daily rollups. Each step projects some pending records and
deletes them from the pending list in one write transaction, so a crash in between leaves
nothing half done and nothing done twice; the `projections` row keeps the greatest `seq` done.

Several processes append at once and commit in any order, so the `seq` numbers of committed
records may have gaps a late commit fills afterwards: a cursor on `seq` would pass over such a
record, the pending list cannot. One process projects at a time (`catch_up`); the others only
append. Reads never project: they may say how far behind the figures are (`lag`).

Deriving again from the log gives what accepting checked: the payload stored is the scrubbed
one, and scrubbing a scrubbed text changes nothing and keeps it flagged.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Connection

from qualivilles import visits as visit_rules
from qualivilles.answers import InvalidAnswer, derive
from qualivilles.protocol import AnswerPayload, RecordKind, VisitEvent, VisitEventPayload
from sync_server.storage import db, rollups, schema, surveys
from sync_server.storage.db import (
    date_value,
    insert_rows,
    select_where_in,
    text_value,
    time_value,
)

if TYPE_CHECKING:
    from sync_server.storage.transactions import Storage

log = logging.getLogger(__name__)

NAME = "figures"
# PostgreSQL's advisory lock held by the one process projecting ("qvprojec").
PROJECTOR = 0x7176_7072_6F6A_6563
# Records per step: a step holds the lock staff changes take (a second at most on a busy
# server); a month-long backlog projects in a few hundred short transactions.
STEP = 1_000

ANSWER_COLUMNS = (
    "id",
    "captured_at",
    "day",
    "device_id",
    "site",
    "service",
    "channel",
    "survey_id",
    "survey_version",
    "status",
    "suspect",
    "language",
    "main_choice",
    "main_level",
    "main_levels",
    "visit_id",
)
ITEM_COLUMNS = ("answer_id", "question_id", "value")
COMMENT_COLUMNS = ("answer_id", "question_id", "text", "flagged", "site", "service", "captured_at")
VISIT_EVENT_COLUMNS = (
    "id",
    "at",
    "visit_id",
    "event",
    "ticket",
    "reason",
    "wait_seconds",
    "cancels",
)


def reserve_seqs(connection: Connection, count: int) -> list[int]:
    """`count` new `seq` numbers, ascending, for records about to be appended to the log: from
    the database's sequence on PostgreSQL (unique whatever the process, never given twice,
    not in commit order), after the greatest stored on SQLite (one writer at a time)."""
    if count <= 0:
        return []
    if connection.dialect.name == "postgresql":
        rows = connection.exec_driver_sql(schema.NEXT_RECORD_NUMBERS, (count,))
        return sorted(int(row[0]) for row in rows)
    # Plain SQL: this runs once per accepted batch, and SQLAlchemy's statement cache costs more
    # than the lookup (`records_seq` is an index: the maximum is its last entry).
    last = connection.exec_driver_sql("SELECT max(seq) FROM records").scalar()
    first = 1 if last is None else int(last) + 1
    return list(range(first, first + count))


def mark_pending(connection: Connection, rows: list[tuple[int, Any]]) -> None:
    """Note records just appended, as (seq, received_at as `time_value` gives it), for the
    projection: in the transaction that appends them, so a record is pending once it is
    logged, whoever commits first."""
    insert_rows(connection, schema.records_pending, ("seq", "received_at"), rows)


def position(connection: Connection) -> int:
    """The greatest `seq` projected so far (records below it may still be pending: see
    `records_pending`)."""
    table = schema.projections
    found = connection.scalar(sa.select(table.c.position).where(table.c.name == NAME))
    return int(found or 0)


def pending(connection: Connection) -> bool:
    """Whether the log holds records not projected yet (one index lookup)."""
    found = connection.exec_driver_sql("SELECT seq FROM records_pending LIMIT 1").first()
    return found is not None


@dataclass(frozen=True)
class Lag:
    """How far behind the log the figures are: `records` accepted and not counted yet, the
    oldest received at `since` (None when the figures are up to date)."""

    records: int
    since: datetime | None

    @property
    def behind(self) -> bool:
        return self.records > 0


def lag(connection: Connection) -> Lag:
    """The figures' lag behind the log, as of the caller's snapshot (two index reads)."""
    table = schema.records_pending
    count, since = connection.execute(
        sa.select(sa.func.count(), sa.func.min(table.c.received_at))
    ).one()
    return Lag(int(count), since)


def _move_to(connection: Connection, seq: int) -> None:
    table = schema.projections
    updated = connection.execute(
        table.update().where(table.c.name == NAME, table.c.position < seq).values(position=seq)
    )
    if updated.rowcount == 0 and position(connection) < seq:
        connection.execute(table.insert().values(name=NAME, position=seq))


def project(connection: Connection, zone: ZoneInfo, limit: int = STEP) -> int:
    """Project up to `limit` pending records, in `seq` order, within the caller's transaction
    (which must be the only projection running: `catch_up` sees to it); returns how many."""
    r, waiting = schema.records, schema.records_pending
    rows = connection.execute(
        sa.select(
            r.c.seq,
            r.c.id,
            r.c.kind,
            r.c.payload,
            r.c.device_id,
            r.c.site,
            r.c.service,
            r.c.captured_at,
        )
        .select_from(waiting.join(r, r.c.seq == waiting.c.seq))
        .order_by(waiting.c.seq)
        .limit(limit)
    ).all()
    if not rows:
        return 0
    rows_out = _Rows(connection, zone)
    for row in rows:
        rows_out.add(row)
    rows_out.write()
    done = [int(row.seq) for row in rows]
    connection.execute(waiting.delete().where(waiting.c.seq.in_(done)))
    _move_to(connection, max(done))
    return len(rows)


# Capture times the figures can count: a row logged before ingestion refused times outside its
# window (year 1, year 9999) is skipped rather than overflow the calendar in a local day.
COUNTABLE_FROM = datetime(2000, 1, 1, tzinfo=UTC)
COUNTABLE_UNTIL = datetime(2101, 1, 1, tzinfo=UTC)


def _countable(captured_at: datetime) -> bool:
    return COUNTABLE_FROM <= captured_at < COUNTABLE_UNTIL


@dataclass
class _Rows:
    """The derived rows of one step, built per record and written table by table."""

    connection: Connection
    zone: ZoneInfo
    answers: list[tuple[Any, ...]] = field(default_factory=list)
    items: list[tuple[Any, ...]] = field(default_factory=list)
    comments: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    visits: dict[str, tuple[str | None, str, str]] = field(default_factory=dict)
    answer_days: Counter[rollups.AnswerDayKey] = field(default_factory=Counter)
    item_days: Counter[rollups.ItemDayKey] = field(default_factory=Counter)
    _parsed: dict[tuple[str, str], Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.time = time_value(self.connection)
        self.date = date_value(self.connection)

    def add(self, row: Any) -> None:
        kind = RecordKind(row.kind)
        key = (row.kind, row.payload)
        if key not in self._parsed:
            self._parsed[key] = self._parse(kind, row.payload, row.id)
        parsed = self._parsed[key]
        if parsed is None or not _countable(row.captured_at):
            return
        captured_at = self.time(row.captured_at)
        if kind == RecordKind.ANSWER:
            payload, facts, survey = parsed
            day = row.captured_at.astimezone(self.zone).date()
            self.answer_days[
                (
                    day,
                    row.site,
                    row.service,
                    payload.status.value,
                    payload.suspect,
                    facts.main_choice is not None,
                    facts.main_level,
                    facts.main_levels,
                )
            ] += 1
            for question, value in facts.items:
                self.item_days[
                    (
                        day,
                        row.site,
                        row.service,
                        survey.id,
                        survey.version,
                        payload.suspect,
                        question,
                        value,
                    )
                ] += 1
            self.answers.append(
                (
                    row.id,
                    captured_at,
                    self.date(day),
                    row.device_id,
                    row.site,
                    row.service,
                    payload.channel.value,
                    survey.id,
                    survey.version,
                    payload.status.value,
                    payload.suspect,
                    payload.language,
                    facts.main_choice,
                    facts.main_level,
                    facts.main_levels,
                    str(payload.visit_id) if payload.visit_id else None,
                )
            )
            self.items.extend((row.id, question, value) for question, value in facts.items)
            self.comments.extend(
                (
                    row.id,
                    text.question_id,
                    text_value(text.text),
                    text.flagged,
                    row.site,
                    row.service,
                    captured_at,
                )
                for text in facts.texts
            )
        else:
            event: VisitEventPayload = parsed
            visit_id = str(event.visit_id)
            self.events.append(
                (
                    row.id,
                    captured_at,
                    visit_id,
                    event.event.value,
                    text_value(event.ticket),
                    event.reason,
                    event.wait_seconds,
                    str(event.cancels) if event.cancels else None,
                )
            )
            self.visits.setdefault(visit_id, (row.device_id, row.site, row.service))

    def _parse(self, kind: RecordKind, text: str, record_id: str) -> Any:
        """(payload, facts, survey) of an answer, the payload of a visit event; None (logged)
        for a record that cannot be derived, which accepting makes impossible."""
        try:
            data = json.loads(text)
            if kind == RecordKind.VISIT_EVENT:
                return VisitEventPayload.model_validate(data)
            payload = AnswerPayload.model_validate(data)
            key = (payload.survey_id, payload.survey_version)
            survey = surveys.remembered(self.connection, *key)
            if survey is None:
                raise InvalidAnswer("payload.survey_version", "no such published survey")
            return payload, derive(payload, survey), survey
        except (ValueError, ValidationError, InvalidAnswer) as error:
            log.error(
                "record %s cannot be projected, left out of the figures: %s", record_id, error
            )
            return None

    def write(self) -> None:
        connection = self.connection
        insert_rows(connection, schema.answers, ANSWER_COLUMNS, self.answers)
        insert_rows(connection, schema.answer_items, ITEM_COLUMNS, self.items)
        insert_rows(connection, schema.comments, COMMENT_COLUMNS, self.comments)
        insert_rows(connection, schema.visit_events, VISIT_EVENT_COLUMNS, self.events)
        _refold_visits(connection, self.visits)
        rollups.add(connection, self.answer_days, self.item_days)


def _refold_visits(connection: Connection, desks: dict[str, tuple[str | None, str, str]]) -> None:
    """Each visit's state folded again from all its events (they may arrive in any order, in
    any step): the step's visits' events read at once, the known visits updated and the new
    ones inserted, a statement each. `desks`: the (device, site, service) of each visit."""
    if not desks:
        return
    events_table, table = schema.visit_events, schema.visits
    events: dict[str, list[visit_rules.Event]] = {visit_id: [] for visit_id in desks}
    wanted = sorted(desks)
    for start in range(0, len(wanted), 500):
        query = sa.select(events_table).where(
            events_table.c.visit_id.in_(wanted[start : start + 500])
        )
        for row in connection.execute(query):
            events[row.visit_id].append(
                visit_rules.Event(
                    id=row.id,
                    event=VisitEvent(row.event),
                    at=row.at,
                    ticket=row.ticket,
                    wait_seconds=row.wait_seconds,
                    cancels=row.cancels,
                    reason=row.reason,
                )
            )
    known = {row[0] for row in select_where_in(connection, table, ("id",), "id", wanted)}
    updates, inserts = [], []
    for visit_id in wanted:
        state = visit_rules.fold(events[visit_id])
        values = {
            "ticket": state.ticket,
            "arrived_at": state.arrived_at,
            "taken_at": state.taken_at,
            "ended_at": state.ended_at,
            "outcome": state.outcome.value,
            "wait_seconds": state.wait_seconds,
        }
        if visit_id in known:
            updates.append({"visit_key": visit_id, **values})
        else:
            device_id, site, service = desks[visit_id]
            inserts.append(
                {"id": visit_id, "device_id": device_id, "site": site, "service": service, **values}
            )
    if updates:
        connection.execute(table.update().where(table.c.id == sa.bindparam("visit_key")), updates)
    if inserts:
        connection.execute(table.insert(), inserts)


def project_all(connection: Connection, zone: ZoneInfo) -> int:
    """Everything pending, in steps, within the caller's transaction."""
    done = 0
    while count := project(connection, zone):
        done += count
    return done


def is_pending(connection: Connection, record_id: str) -> bool:
    """Whether this record is in the log and not projected yet."""
    r, waiting = schema.records, schema.records_pending
    query = (
        sa.select(waiting.c.seq)
        .select_from(waiting.join(r, r.c.seq == waiting.c.seq))
        .where(r.c.id == record_id)
    )
    return connection.execute(query).first() is not None


def until_projected(storage: Storage, record_id: str, seconds: float = 5.0) -> bool:
    """Project, or let the process projecting do it, until this record is in the figures (a
    visitor's thanks page needs their comment's register entry); False if it is still pending
    after `seconds` (a projection stuck elsewhere: the page then goes on without it)."""
    deadline = time.monotonic() + seconds
    while True:
        catch_up(storage)
        with storage.read() as connection:
            if not is_pending(connection, record_id):
                return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)  # the leader's step takes milliseconds


def catch_up(storage: Storage) -> int:
    """Project what is pending, one step per write transaction, so that other writers wait for
    one step at most; returns the records projected here.

    One process projects at a time (`db.lead`): when another is at it, this returns 0 at once,
    and that one goes on until nothing is pending. A record committed just as it stopped is
    left for the next call: each upload calls this once replied to, and each server process
    calls it every few seconds (`projection_loop`)."""
    done = 0
    while True:
        with db.lead(storage.engine, PROJECTOR) as connection:
            if connection is None:
                return done
            count = project(connection, storage.zone)
        done += count
        if count < STEP:  # what was pending when the step began is done
            return done
