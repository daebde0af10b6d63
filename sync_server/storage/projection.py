"""The figures' tables, projected from the `records` log in the order records were accepted.

Accepting a batch (`ingest.py`) appends to the log and acknowledges; this module turns the log
into what the indicators read: answers, their items and free texts, visit events, the visits
folded from them, and the daily rollups. The `projections` row remembers the last `seq` done,
and each step runs in one write transaction with the rows it projects, so a crash in between
leaves nothing half done and nothing done twice.

Deriving again from the log gives what accepting checked: the payload stored is the scrubbed
one, and scrubbing a scrubbed text changes nothing and keeps it flagged.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Connection

from qualivilles import visits as visit_rules
from qualivilles.answers import InvalidAnswer, derive
from qualivilles.protocol import AnswerPayload, RecordKind, VisitEvent, VisitEventPayload
from sync_server.storage import rollups, schema, surveys
from sync_server.storage.db import date_value, insert_rows, text_value, time_value

if TYPE_CHECKING:
    from sync_server.storage.transactions import Storage

log = logging.getLogger(__name__)

NAME = "figures"
# Records per step: a month-long backlog projects in a few dozen short transactions.
STEP = 5_000

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


def next_seq(connection: Connection) -> int:
    """The `seq` of the next record appended to the log (writes never interleave)."""
    # Plain SQL: this runs once per accepted batch, and SQLAlchemy's statement cache costs more
    # than the lookup (`records_seq` is an index: the maximum is its last entry).
    last = connection.exec_driver_sql("SELECT max(seq) FROM records").scalar()
    return 1 if last is None else int(last) + 1


def position(connection: Connection) -> int:
    table = schema.projections
    found = connection.scalar(sa.select(table.c.position).where(table.c.name == NAME))
    return int(found or 0)


def pending(connection: Connection) -> bool:
    """Whether the log holds records not projected yet (two index lookups)."""
    last = connection.scalar(sa.select(sa.func.max(schema.records.c.seq)))
    return last is not None and int(last) > position(connection)


def _move_to(connection: Connection, seq: int) -> None:
    table = schema.projections
    updated = connection.execute(table.update().where(table.c.name == NAME).values(position=seq))
    if updated.rowcount == 0:
        connection.execute(table.insert().values(name=NAME, position=seq))


def project(connection: Connection, zone: ZoneInfo, limit: int = STEP) -> int:
    """Project up to `limit` records after the current position; returns how many."""
    r = schema.records
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
        .where(r.c.seq > position(connection))
        .order_by(r.c.seq)
        .limit(limit)
    ).all()
    if not rows:
        return 0
    rows_out = _Rows(connection, zone)
    for row in rows:
        rows_out.add(row)
    rows_out.write()
    _move_to(connection, int(rows[-1].seq))
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
    days: set[tuple[str, str, date]] = field(default_factory=set)
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
            self.days.add((row.site, row.service, day))
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
        for visit_id, desk in sorted(self.visits.items()):
            _refold_visit(connection, visit_id, *desk)
        rollups.refresh(connection, self.days)


def _refold_visit(
    connection: Connection, visit_id: str, device_id: str | None, site: str, service: str
) -> None:
    """The visit's state folded again from all its events (they may arrive in any order)."""
    events_table, table = schema.visit_events, schema.visits
    events = [
        visit_rules.Event(
            id=row.id,
            event=VisitEvent(row.event),
            at=row.at,
            ticket=row.ticket,
            wait_seconds=row.wait_seconds,
            cancels=row.cancels,
            reason=row.reason,
        )
        for row in connection.execute(
            sa.select(events_table).where(events_table.c.visit_id == visit_id)
        )
    ]
    state = visit_rules.fold(events)
    values = {
        "ticket": state.ticket,
        "arrived_at": state.arrived_at,
        "taken_at": state.taken_at,
        "ended_at": state.ended_at,
        "outcome": state.outcome.value,
        "wait_seconds": state.wait_seconds,
    }
    updated = connection.execute(table.update().where(table.c.id == visit_id).values(**values))
    if updated.rowcount == 0:
        connection.execute(
            table.insert().values(
                id=visit_id, device_id=device_id, site=site, service=service, **values
            )
        )


def project_all(connection: Connection, zone: ZoneInfo) -> int:
    """Everything pending, in steps, within the caller's transaction."""
    done = 0
    while count := project(connection, zone):
        done += count
    return done


def catch_up(storage: Storage) -> int:
    """Project what the log holds beyond the figures' tables, one step per write transaction, so
    that uploads wait for one step at most (the sync endpoint calls this once its reply is sent);
    returns the records projected."""
    done = 0
    while True:
        with storage.write() as connection:
            count = project(connection, storage.zone)
        if count == 0:
            return done
        done += count
