"""Ingestion of a batch of records: one acknowledgement per record, nothing doubled, nothing lost.

A batch is checked first (`check`: validation, hashes, clock correction), before any
transaction opens, then stored (`Checked.store`) in a transaction that takes no lock shared with
other uploads. Idempotency rests on the `records` primary key: every record is offered to the
log with ON CONFLICT DO NOTHING; one that did not go in was there already, and its hash tells a
duplicate from a conflict kept in quarantine. One invalid record is rejected alone; the rest of
the batch goes on. Every record is validated here in full (its survey, its answers), so an
acknowledged record always projects.

Accepting writes the `records` log and its pending list only: the answers, visit events, visits
and daily rollups are projected from it afterwards (`projection.py`), just after the reply. A
record is acknowledged once it is in the log, which is what makes it safe to forget.

Capture times are corrected for a drifting device clock (`sync_server.clock`) into the log's
`captured_at`; `device_time` keeps the time exactly as sent. An offset beyond its bound is an
unknown clock and is not applied. A capture time (corrected) outside the window around the
server's clock and the device's enrolment is refused alone: `time_out_of_range`.

Who may say what comes from the sender, never from the payload:

- Only a tablet sends visit events; one from a kiosk (or any other source) is rejected alone,
  `visit_events_from_tablets_only`.
- A visit belongs to the device whose event for it was accepted first: that event records the
  owner (`visit_owners`), and an event for the visit from any other device, so also from another
  desk, is rejected `visit_not_yours`. The first event need not be the arrival: a tablet's
  `taken_in_charge` may reach the server before its `arrived` (a later batch), and both are
  accepted since both come from the owner. A visit id is a random UUID the tablet makes when
  the visitor arrives, so no other device can claim it before its own tablet's first upload
  without knowing it in advance.
- An answer's channel is the sender's: a kiosk's answers count as `kiosk`, a tablet's as
  `tablet`, the phone survey's as `phone`, whatever the payload says. A payload claiming
  another channel is corrected, not rejected (a device whose mode an administrator changed
  while answers were queued loses none): the log keeps the corrected payload, with the hash of
  the payload as sent for idempotency, as it does for scrubbed comments.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import ValidationError
from sqlalchemy.engine import Connection

from qualivilles.answers import InvalidAnswer, derive, logged_payload
from qualivilles.protocol import (
    PAYLOAD_MODELS,
    Ack,
    AckStatus,
    AnswerPayload,
    RecordIn,
    RecordKind,
    canonical_json,
)
from qualivilles.survey import SurveyDefinition
from sync_server import clock
from sync_server.storage import projection, schema, surveys
from sync_server.storage.db import insert_ignore, insert_new_rows, select_where_in, time_value
from sync_server.storage.models import Source
from sync_server.storage.projection import mark_pending, reserve_seqs

# Row layouts for `insert_rows`: the values that depend on the record come first.
RECORD_COLUMNS = (
    "id",
    "payload_hash",
    "payload",
    "device_time",
    "monotonic_ms",
    "kind",
    "captured_at",
    "seq",
    "device_id",
    "site",
    "service",
    "received_at",
)


@dataclass(frozen=True, slots=True)
class _Content:
    """What a payload gives whichever record carries it: worked out once per distinct payload
    in a batch (kiosk answers repeat a lot), from its canonical JSON."""

    digest: str
    logged: str  # the payload the record log keeps: free texts scrubbed
    rejection: Ack | None = None  # made for the first record carrying the payload
    visit_id: str | None = None  # a visit event's visit


class _Prepared(NamedTuple):
    """A valid record and its content, ready to store (a tuple: built once per record)."""

    record: RecordIn
    id: str
    content: _Content
    device_time: Any  # as the driver takes it
    captured_at: Any


def _error_detail(error: ValidationError, prefix: str) -> str:
    parts = []
    for item in error.errors():
        path = ".".join([prefix, *(str(part) for part in item["loc"])])
        parts.append(f"{path}: {item['msg']}")
    return "; ".join(parts)


def _reject(record: RecordIn, code: str, detail: str) -> Ack:
    return Ack(id=record.id, status=AckStatus.REJECTED, code=code, detail=detail)


SurveyLookup = Callable[[str, int], SurveyDefinition | None]


class _Batch:
    """A batch checked (`prepare`, before any transaction) then stored (`owned`, `store`, in
    the transaction that appends it)."""

    def __init__(
        self,
        lookup: SurveyLookup,
        time: Callable[[datetime], Any],
        source: Source,
        received_at: datetime,
        clock_offset_ms: int | None,
        max_drift_ms: int,
        max_offset_ms: int,
        window: clock.Window,
    ):
        self.lookup = lookup
        self.source = source
        self.received_at = received_at
        # Beyond its bound the offset is an unknown clock: no correction.
        self.clock_offset_ms = clock.trusted_offset(clock_offset_ms, max_offset_ms)
        self.max_drift_ms = max_drift_ms
        self.drifting = clock.is_drifting(self.clock_offset_ms, max_drift_ms)
        self.window = window
        self.time = time
        # Per (kind, claimed hash): the payloads checked in this batch and what they gave.
        self._contents: dict[tuple[RecordKind, str], list[tuple[Any, _Content]]] = {}

    def survey(self, survey_id: str, version: int) -> SurveyDefinition | None:
        return self.lookup(survey_id, version)

    def prepare(self, record: RecordIn) -> _Prepared | Ack:
        content = self._known_content(record)
        if content is None:
            content = self._content(record, canonical_json(record.payload))
            self._contents.setdefault((record.kind, record.payload_hash), []).append(
                (record.payload, content)
            )
        if content.digest != record.payload_hash:
            return _reject(record, "hash_mismatch", "payload_hash is not the SHA-256 of payload")
        if record.device_time.tzinfo is None:
            return _reject(record, "invalid_payload", "device_time: a time zone is required")
        if content.rejection is not None:
            return _reject(record, str(content.rejection.code), str(content.rejection.detail))
        if content.visit_id is not None and self.source.channel != "tablet":
            detail = f"a {self.source.channel} sends no visit events: only a desk's tablet does"
            return _reject(record, "visit_events_from_tablets_only", detail)
        captured = clock.corrected(record.device_time, self.clock_offset_ms, self.max_drift_ms)
        if not self.window.holds(captured):
            window = self.window
            detail = (
                f"device_time: the capture time must be within {window.earliest.isoformat()} "
                f"and {window.latest.isoformat()} (the server's clock and the enrolment)"
            )
            return _reject(record, "time_out_of_range", detail)
        device_time = self.time(record.device_time)
        captured_at = self.time(captured) if self.drifting else device_time
        return _Prepared(record, str(record.id), content, device_time, captured_at)

    def _known_content(self, record: RecordIn) -> _Content | None:
        """The content worked out for an equal payload claiming the same hash, if any.

        Comparing with a payload seen before costs a tenth of serialising this one. Equality
        does not tell 1 from 1.0 or true, so a payload differing from a checked one only so is
        taken for it: it means the same, and the log keeps the checked one's JSON and hash."""
        for payload, content in self._contents.get((record.kind, record.payload_hash), ()):
            if payload == record.payload:
                return content
        return None

    def _content(self, record: RecordIn, canonical: str) -> _Content:
        digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        try:
            model = PAYLOAD_MODELS[record.kind].model_validate(record.payload)
        except ValidationError as error:
            detail = _error_detail(error, "payload")
            return _Content(digest, canonical, _reject(record, "invalid_payload", detail))
        if isinstance(model, AnswerPayload):
            return self._answer_content(record, model, digest, canonical)
        return _Content(digest, canonical, visit_id=str(model.visit_id))

    def _answer_content(
        self, record: RecordIn, payload: AnswerPayload, digest: str, canonical: str
    ) -> _Content:
        survey = self.survey(payload.survey_id, payload.survey_version)
        if survey is None:
            named = f"{payload.survey_id} v{payload.survey_version}"
            detail = f"payload.survey_version: no published survey {named}"
            return _Content(digest, canonical, _reject(record, "unknown_survey", detail))
        try:
            facts = derive(payload, survey)
        except InvalidAnswer as error:
            return _Content(digest, canonical, _reject(record, "invalid_answer", str(error)))
        logged = logged_payload(record.payload, facts.texts)
        if payload.channel.value != self.source.channel:
            logged = {**logged, "channel": self.source.channel}
        # The log keeps the hash of what was sent (for idempotency) but never the contact
        # details a visitor typed, nor a channel other than the sender's: the stored copy is
        # scrubbed and corrected.
        return _Content(digest, canonical if logged is record.payload else canonical_json(logged))

    def owned(self, connection: Connection, prepared: list[_Prepared]) -> list[_Prepared | Ack]:
        """Each visit event checked against its visit's owner: rejected when the visit belongs
        to another device, otherwise kept, and a visit seen for the first time is recorded as
        this device's (visit events come from tablets only, so the source has a device).

        A claim is an insert that does nothing when the visit has an owner: of two uploads
        claiming one visit at once, the second waits for the first's commit, then reads the
        owner it stored."""
        device_id = self.source.device_id
        visits = {item.content.visit_id for item in prepared if item.content.visit_id}
        if not visits or device_id is None:
            return list(prepared)
        table = schema.visit_owners
        owners = _owners(connection, visits)
        new = sorted(visits - owners.keys())  # in key order: two claimants never deadlock
        if new:
            claims = [{"visit_id": visit_id, "device_id": device_id} for visit_id in new]
            connection.execute(insert_ignore(connection, table), claims)
            owners.update(_owners(connection, set(new)))
        return [
            item
            if item.content.visit_id is None or owners[item.content.visit_id] == device_id
            else _reject(
                item.record,
                "visit_not_yours",
                "payload.visit_id: this visit belongs to another device",
            )
            for item in prepared
        ]

    def store(self, connection: Connection, prepared: list[_Prepared]) -> list[Ack]:
        """Append what is new to the log; classify the rest. One ack per item, in order.

        Every record is offered to the log with a `seq` number of its own (`reserve_seqs`) and
        ON CONFLICT DO NOTHING, in id order (two uploads sharing ids lock them in one order,
        never each waiting for the other). When all went in (a device's first upload of them,
        nearly always) each is stored. Otherwise the log tells which went in: the row holding
        an item's own `seq` is that item; any other row with its id was there before (or came
        from another upload committed meanwhile, or earlier in this batch), and the hashes tell
        a duplicate from a conflict. A concurrent upload of the same id waits for this one's
        commit (the primary key), so it reads the row this one stored."""
        received = self.time(self.received_at)
        tail = (self.source.device_id, self.source.site, self.source.service, received)
        order = sorted(range(len(prepared)), key=lambda index: prepared[index].id)
        seqs = [0] * len(prepared)
        for index, seq in zip(order, reserve_seqs(connection, len(prepared)), strict=True):
            seqs[index] = seq
        rows = [
            (
                item.id,
                item.record.payload_hash,
                item.content.logged,
                item.device_time,
                item.record.monotonic_ms,
                item.record.kind.value,
                item.captured_at,
                seqs[index],
                *tail,
            )
            for index, item in ((index, prepared[index]) for index in order)
        ]
        inserted = insert_new_rows(connection, schema.records, RECORD_COLUMNS, rows)
        if inserted == len(prepared):
            mark_pending(connection, [(seq, received) for seq in seqs])
            return [Ack(id=item.record.id, status=AckStatus.STORED) for item in prepared]
        stored = _stored(connection, {item.id for item in prepared})
        acks: list[Ack] = []
        conflicts: list[dict[str, Any]] = []
        new: list[tuple[int, Any]] = []
        for item, seq in zip(prepared, seqs, strict=True):
            record = item.record
            known_hash, known_seq = stored[item.id]
            if known_seq == seq:
                acks.append(Ack(id=record.id, status=AckStatus.STORED))
                new.append((seq, received))
            elif known_hash == record.payload_hash:
                acks.append(Ack(id=record.id, status=AckStatus.DUPLICATE))
            else:
                acks.append(
                    Ack(
                        id=record.id,
                        status=AckStatus.CONFLICT,
                        code="conflict",
                        detail="this id is already stored with another payload; kept in quarantine",
                    )
                )
                conflicts.append(
                    {
                        "record_id": item.id,
                        "device_id": self.source.device_id,
                        "existing_hash": known_hash,
                        "payload_hash": record.payload_hash,
                        "payload": item.content.logged,
                        "received_at": self.received_at,
                    }
                )
        mark_pending(connection, new)
        if conflicts:
            connection.execute(insert_ignore(connection, schema.quarantine), conflicts)
        return acks


def _owners(connection: Connection, visits: set[str]) -> dict[str, str]:
    """The owning device of each of these visits that has one."""
    rows = select_where_in(
        connection, schema.visit_owners, ("visit_id", "device_id"), "visit_id", visits
    )
    return {row[0]: row[1] for row in rows}


def _stored(connection: Connection, record_ids: set[str]) -> dict[str, tuple[str, int]]:
    """(payload hash, seq) of each id in the log."""
    rows = select_where_in(
        connection, schema.records, ("id", "payload_hash", "seq"), "id", record_ids
    )
    return {row[0]: (row[1], int(row[2])) for row in rows}


DEFAULT_MAX_DRIFT_MS = 120_000
DEFAULT_MAX_OFFSET_MS = 30 * 86_400_000


# Without a window from the caller (the API and the phone survey always give one): the years
# the figures count, so that no stored time can overflow the calendar.
CALENDAR_WINDOW = clock.Window(projection.COUNTABLE_FROM, projection.COUNTABLE_UNTIL)


class Checked:
    """A batch checked, not stored yet: each record valid and ready, or its rejection."""

    def __init__(self, batch: _Batch, outcomes: list[_Prepared | Ack]):
        self._batch = batch
        self._outcomes = outcomes

    def store(self, connection: Connection) -> list[Ack]:
        """Store the valid records in the caller's transaction (`Storage.append`); one `Ack`
        per record, in the order given."""
        outcomes = self._outcomes
        valid = [item for item in outcomes if not isinstance(item, Ack)]
        owned = iter(self._batch.owned(connection, valid))
        outcomes = [item if isinstance(item, Ack) else next(owned) for item in outcomes]
        kept = [outcome for outcome in outcomes if not isinstance(outcome, Ack)]
        stored = iter(self._batch.store(connection, kept))
        return [outcome if isinstance(outcome, Ack) else next(stored) for outcome in outcomes]


def check(
    lookup: SurveyLookup,
    time: Callable[[datetime], Any],
    records: list[RecordIn],
    source: Source,
    received_at: datetime,
    *,
    clock_offset_ms: int | None = None,
    max_drift_ms: int = DEFAULT_MAX_DRIFT_MS,
    max_offset_ms: int = DEFAULT_MAX_OFFSET_MS,
    window: clock.Window | None = None,
) -> Checked:
    """Validate and hash a batch from one source before any transaction is open: surveys come
    from `lookup`, times go to the driver as `time` makes them (`db.time_value`).

    `clock_offset_ms` is the source's clock offset (server minus device) measured on this
    upload; beyond `max_drift_ms` the capture times are corrected by it, unless it is beyond
    `max_offset_ms` too (an unknown clock). A record captured outside `window` (default: the
    years the figures count) is refused.
    """
    batch = _Batch(
        lookup,
        time,
        source,
        received_at,
        clock_offset_ms,
        max_drift_ms,
        max_offset_ms,
        window or CALENDAR_WINDOW,
    )
    return Checked(batch, [batch.prepare(record) for record in records])


def ingest(
    connection: Connection,
    records: list[RecordIn],
    source: Source,
    received_at: datetime,
    **options: Any,
) -> list[Ack]:
    """Check and store a batch in the caller's transaction (as `check`, then `Checked.store`);
    one `Ack` per record, in the order given."""

    def lookup(survey_id: str, version: int) -> SurveyDefinition | None:
        return surveys.remembered(connection, survey_id, version)

    checked = check(lookup, time_value(connection), records, source, received_at, **options)
    return checked.store(connection)
