"""Ingestion of a batch of records: one acknowledgement per record, nothing doubled, nothing lost.

Idempotency rests on the `records` primary key: a record is inserted with ON CONFLICT DO NOTHING
and only the rows actually inserted get their derived rows (answers, visit events). Anything not
inserted is compared by hash with what is stored: same hash is a duplicate, another hash a
conflict kept in quarantine. One invalid record is rejected alone; the rest of the batch goes on.

Capture times in answers and visit events are corrected for a drifting device clock
(`sync_server.clock`); the `records` log keeps the device time exactly as sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Connection

from kiosk.core.protocol import (
    PAYLOAD_MODELS,
    Ack,
    AckStatus,
    AnswerPayload,
    RecordIn,
    VisitEvent,
    VisitEventPayload,
    canonical_json,
    payload_hash,
)
from kiosk.core.survey import SurveyDefinition
from sync_server import clock
from sync_server import visits as visit_rules
from sync_server.answer_facts import InvalidAnswer, derive
from sync_server.scrub import scrub_json
from sync_server.storage import schema, surveys
from sync_server.storage.db import insert_ignore
from sync_server.storage.models import Source


@dataclass
class _Prepared:
    """A valid record and the rows it adds once stored."""

    record: RecordIn
    record_row: dict[str, Any]
    derived: dict[sa.Table, list[dict[str, Any]]] = field(default_factory=dict)
    visit_id: str | None = None


def _error_detail(error: ValidationError, prefix: str) -> str:
    parts = []
    for item in error.errors():
        path = ".".join([prefix, *(str(part) for part in item["loc"])])
        parts.append(f"{path}: {item['msg']}")
    return "; ".join(parts)


def _reject(record: RecordIn, code: str, detail: str) -> Ack:
    return Ack(id=record.id, status=AckStatus.REJECTED, code=code, detail=detail)


class _Batch:
    def __init__(
        self,
        connection: Connection,
        source: Source,
        received_at: datetime,
        clock_offset_ms: int | None,
        max_drift_ms: int,
    ):
        self.connection = connection
        self.source = source
        self.received_at = received_at
        self.clock_offset_ms = clock_offset_ms
        self.max_drift_ms = max_drift_ms
        self._surveys: dict[tuple[str, int], SurveyDefinition | None] = {}

    def captured_at(self, record: RecordIn) -> datetime:
        return clock.corrected(record.device_time, self.clock_offset_ms, self.max_drift_ms)

    def survey(self, survey_id: str, version: int) -> SurveyDefinition | None:
        key = (survey_id, version)
        if key not in self._surveys:
            self._surveys[key] = surveys.get(self.connection, survey_id, version)
        return self._surveys[key]

    def prepare(self, record: RecordIn) -> _Prepared | Ack:
        if payload_hash(record.payload) != record.payload_hash:
            return _reject(record, "hash_mismatch", "payload_hash is not the SHA-256 of payload")
        if record.device_time.tzinfo is None:
            return _reject(record, "invalid_payload", "device_time: a time zone is required")
        try:
            payload = PAYLOAD_MODELS[record.kind].model_validate(record.payload)
        except ValidationError as error:
            return _reject(record, "invalid_payload", _error_detail(error, "payload"))
        record_id = str(record.id)
        prepared = _Prepared(
            record=record,
            record_row={
                "id": record_id,
                "kind": record.kind.value,
                "device_id": self.source.device_id,
                "payload_hash": record.payload_hash,
                # The log keeps the hash of what was sent (for idempotency) but never the
                # contact details a visitor typed: the stored copy is scrubbed too.
                "payload": canonical_json(scrub_json(record.payload)),
                "device_time": record.device_time,
                "monotonic_ms": record.monotonic_ms,
                "received_at": self.received_at,
            },
        )
        if isinstance(payload, AnswerPayload):
            return self._prepare_answer(prepared, payload)
        assert isinstance(payload, VisitEventPayload)
        return self._prepare_visit_event(prepared, payload)

    def _prepare_answer(self, prepared: _Prepared, payload: AnswerPayload) -> _Prepared | Ack:
        record = prepared.record
        survey = self.survey(payload.survey_id, payload.survey_version)
        if survey is None:
            named = f"{payload.survey_id} v{payload.survey_version}"
            detail = f"payload.survey_version: no published survey {named}"
            return _reject(record, "unknown_survey", detail)
        try:
            facts = derive(payload, survey)
        except InvalidAnswer as error:
            return _reject(record, "invalid_answer", str(error))
        answer_id = str(record.id)
        prepared.derived[schema.answers] = [
            {
                "id": answer_id,
                "device_id": self.source.device_id,
                "channel": payload.channel.value,
                "site": self.source.site,
                "service": self.source.service,
                "survey_id": payload.survey_id,
                "survey_version": payload.survey_version,
                "status": payload.status.value,
                "suspect": payload.suspect,
                "language": payload.language,
                "captured_at": self.captured_at(record),
                "main_choice": facts.main_choice,
                "main_level": facts.main_level,
                "main_levels": facts.main_levels,
                "visit_id": str(payload.visit_id) if payload.visit_id else None,
            }
        ]
        prepared.derived[schema.answer_items] = [
            {"answer_id": answer_id, "question_id": question, "value": value}
            for question, value in facts.items
        ]
        prepared.derived[schema.comments] = [
            {
                "answer_id": answer_id,
                "question_id": text.question_id,
                "text": text.text,
                "flagged": text.flagged,
            }
            for text in facts.texts
        ]
        return prepared

    def _prepare_visit_event(self, prepared: _Prepared, payload: VisitEventPayload) -> _Prepared:
        visit_id = str(payload.visit_id)
        prepared.visit_id = visit_id
        prepared.derived[schema.visit_events] = [
            {
                "id": str(prepared.record.id),
                "visit_id": visit_id,
                "event": payload.event.value,
                "at": self.captured_at(prepared.record),
                "ticket": payload.ticket,
                "reason": payload.reason,
                "wait_seconds": payload.wait_seconds,
                "cancels": str(payload.cancels) if payload.cancels else None,
            }
        ]
        return prepared

    def store(self, prepared: list[_Prepared]) -> dict[int, Ack]:
        """Insert what is new; classify the rest. Keys are positions in `prepared`."""
        first_of: dict[str, int] = {}
        for index, item in enumerate(prepared):
            first_of.setdefault(item.record_row["id"], index)
        inserted: set[str] = set()
        firsts = [prepared[i].record_row for i in first_of.values()]
        if firsts:
            statement = insert_ignore(self.connection, schema.records).returning(
                schema.records.c.id
            )
            inserted = set(self.connection.scalars(statement, firsts))
        existing = self._stored_hashes(
            [item.record_row["id"] for item in prepared if item.record_row["id"] not in inserted]
        )
        # An id repeated within this batch compares with its first occurrence, just inserted.
        existing.update({rid: prepared[first_of[rid]].record.payload_hash for rid in inserted})
        acks: dict[int, Ack] = {}
        stored: list[_Prepared] = []
        conflicts: list[dict[str, Any]] = []
        for index, item in enumerate(prepared):
            record_id = item.record_row["id"]
            if record_id in inserted and first_of[record_id] == index:
                stored.append(item)
                acks[index] = Ack(id=item.record.id, status=AckStatus.STORED)
            elif existing[record_id] == item.record.payload_hash:
                acks[index] = Ack(id=item.record.id, status=AckStatus.DUPLICATE)
            else:
                acks[index] = Ack(
                    id=item.record.id,
                    status=AckStatus.CONFLICT,
                    code="conflict",
                    detail="this id is already stored with another payload; kept in quarantine",
                )
                conflicts.append(
                    {
                        "record_id": record_id,
                        "device_id": self.source.device_id,
                        "existing_hash": existing[record_id],
                        "payload_hash": item.record.payload_hash,
                        "payload": item.record_row["payload"],
                        "received_at": self.received_at,
                    }
                )
        if conflicts:
            self.connection.execute(insert_ignore(self.connection, schema.quarantine), conflicts)
        self._insert_derived(stored)
        return acks

    def _stored_hashes(self, record_ids: list[str]) -> dict[str, str]:
        if not record_ids:
            return {}
        table = schema.records
        rows = self.connection.execute(
            sa.select(table.c.id, table.c.payload_hash).where(table.c.id.in_(set(record_ids)))
        )
        return {row.id: row.payload_hash for row in rows}

    def _insert_derived(self, stored: list[_Prepared]) -> None:
        # Parents before children, as the foreign keys require.
        for table in (schema.answers, schema.answer_items, schema.comments, schema.visit_events):
            rows = [row for item in stored for row in item.derived.get(table, [])]
            if rows:
                self.connection.execute(table.insert(), rows)
        touched = sorted({item.visit_id for item in stored if item.visit_id})
        for visit_id in touched:
            self._refold_visit(visit_id)

    def _refold_visit(self, visit_id: str) -> None:
        events_table, table = schema.visit_events, schema.visits
        events = [
            visit_rules.Event(
                id=row.id,
                event=VisitEvent(row.event),
                at=row.at,
                ticket=row.ticket,
                wait_seconds=row.wait_seconds,
                cancels=row.cancels,
            )
            for row in self.connection.execute(
                sa.select(events_table).where(events_table.c.visit_id == visit_id)
            )
        ]
        state = visit_rules.fold(events)
        values = {
            "ticket": state.ticket,
            "arrived_at": state.arrived_at,
            "taken_at": state.taken_at,
            "ended_at": state.ended_at,
            "outcome": state.outcome,
            "wait_seconds": state.wait_seconds,
        }
        updated = self.connection.execute(
            table.update().where(table.c.id == visit_id).values(**values)
        )
        if updated.rowcount == 0:
            self.connection.execute(
                table.insert().values(
                    id=visit_id,
                    device_id=self.source.device_id,
                    site=self.source.site,
                    service=self.source.service,
                    **values,
                )
            )


DEFAULT_MAX_DRIFT_MS = 120_000


def ingest(
    connection: Connection,
    records: list[RecordIn],
    source: Source,
    received_at: datetime,
    *,
    clock_offset_ms: int | None = None,
    max_drift_ms: int = DEFAULT_MAX_DRIFT_MS,
) -> list[Ack]:
    """Store a batch from one source; one `Ack` per record, in the order given.

    `clock_offset_ms` is the source's clock offset (server minus device) measured on this
    upload; beyond `max_drift_ms` the capture times are corrected by it.
    """
    batch = _Batch(connection, source, received_at, clock_offset_ms, max_drift_ms)
    results: list[Ack | None] = []
    valid: list[_Prepared] = []
    positions: list[int] = []
    for record in records:
        outcome = batch.prepare(record)
        if isinstance(outcome, Ack):
            results.append(outcome)
        else:
            positions.append(len(results))
            results.append(None)
            valid.append(outcome)
    for index, ack in batch.store(valid).items():
        results[positions[index]] = ack
    return [ack for ack in results if ack is not None]

