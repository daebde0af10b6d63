"""The kiosk's durable memory: visitor responses, the outbox of unsent records, device settings.

One SQLite file (WAL, `synchronous=FULL`). Every write method commits before it returns, so a
screen may move on as soon as the call is back: a power cut after that loses nothing. A store is
used from one thread; the sync worker opens its own `KioskStore` on the same file.

Responses are built up tap by tap while the visitor answers (`start_response`,
`record_answer`, …) and then sealed: sealing turns the response into an `answer` record in the
outbox, in the same transaction. The outbox forgets a record only when the server acknowledged it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from kiosk.core.clock import DeviceClock, SystemClock
from kiosk.core.device_state import CachedConfig, Credentials, SyncStatus
from qualivilles.protocol import (
    FORGETTABLE,
    MAX_COMMENT_LENGTH,
    MAX_RECORDS_PER_BATCH,
    PAYLOAD_MODELS,
    Ack,
    AckStatus,
    AnswerPayload,
    Channel,
    RecordIn,
    RecordKind,
    ResponseStatus,
    VisitEventPayload,
    canonical_json,
    new_record_id,
    payload_hash,
)

# Long enough for the other thread's write (a few ms, one fsync) to finish on a slow SD card.
BUSY_TIMEOUT_SECONDS = 15.0
# A generous allowance for the id, kind, hash, times and JSON punctuation around each payload.
RECORD_ENVELOPE_BYTES = 256

_ANSWERS = TypeAdapter(AnswerPayload.model_fields["answers"].annotation)


class StoreError(Exception):
    """Base class for the store's own errors."""


class ResponseNotOpen(StoreError, LookupError):
    """No open response with this id: unknown, or already sealed (answers are then final)."""


class StoreFull(StoreError):
    """The disk is full: nothing was written. Show it on the staff screen; retry later.

    While it lasts, `KioskStore.sync_status()` of the store that hit it reports it with the code
    "store_full" (a full disk cannot be recorded on that disk).
    """

    code = "store_full"


@dataclass(frozen=True)
class AckSummary:
    forgotten: int = 0  # stored or duplicate: deleted from the outbox
    duplicates: int = 0  # of which the server already had
    conflicts: int = 0
    rejected: int = 0
    unknown: int = 0  # acks for ids no longer in the outbox (already forgotten)


def is_suspect_press(previous_ms: int | None, now_ms: int, interval_seconds: float) -> bool:
    """True when a press comes less than `interval_seconds` after the previous one.

    Both times are on the monotonic clock. A `now_ms` before `previous_ms` means the clock
    restarted (a reboot): that press is not suspect.
    """
    if previous_ms is None or interval_seconds <= 0:
        return False
    gap_ms = now_ms - previous_ms
    return 0 <= gap_ms < interval_seconds * 1000


migrations = Migrations("kiosk")


@migrations(name="0001_responses_outbox_settings")
def _initial_schema(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE responses (
            id TEXT PRIMARY KEY,
            survey_id TEXT NOT NULL,
            survey_version INTEGER NOT NULL,
            language TEXT NOT NULL,
            channel TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'complete', 'partial')),
            suspect INTEGER NOT NULL DEFAULT 0,
            visit_id TEXT,
            started_at TEXT NOT NULL,
            started_monotonic_ms INTEGER NOT NULL,
            answers TEXT NOT NULL DEFAULT '{}',
            comment TEXT,
            sealed_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX responses_status ON responses (status)")
    # `seq` keeps capture order even if the wall clock steps back between two records (UUIDv7
    # ids are made from the wall clock); AUTOINCREMENT so a number is never reused.
    db.execute(
        """
        CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL,
            payload_hash TEXT NOT NULL,
            device_time TEXT NOT NULL,
            monotonic_ms INTEGER NOT NULL,
            size_bytes INTEGER NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'conflict', 'rejected')),
            last_code TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            held_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX outbox_state_seq ON outbox (state, seq)")
    db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


@migrations(name="0002_visit_events")
def _visit_events(db: Database) -> None:
    # The agent tablet's own copy of its visit events: the outbox forgets what the server
    # acknowledged, but the queue is rebuilt from these after a restart.
    db.execute(
        """
        CREATE TABLE visit_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            visit_id TEXT NOT NULL,
            event TEXT NOT NULL,
            ticket TEXT,
            reason TEXT,
            wait_seconds REAL,
            cancels TEXT,
            device_time TEXT NOT NULL,
            monotonic_ms INTEGER NOT NULL,
            boot_id TEXT
        )
        """
    )
    db.execute("CREATE INDEX visit_events_time ON visit_events (device_time)")


_INSERT_OUTBOX = """INSERT INTO outbox (id, kind, payload, payload_hash, device_time,
                        monotonic_ms, size_bytes)
                    VALUES (?, ?, ?, ?, ?, ?, ?)"""


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _parse_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


class KioskStore:
    """The kiosk's SQLite file. Open one per thread; close it (or use `with`) when done."""

    def __init__(self, path: Path, clock: DeviceClock | None = None) -> None:
        self.path = Path(path)
        self.clock: DeviceClock = clock or SystemClock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._full: str | None = None  # message of the last write refused for a full disk
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS)
        self.db = Database(conn)
        self.db.enable_wal()
        # FULL: a commit is on disk (WAL fsynced) before it returns, not merely handed to the OS.
        conn.execute("PRAGMA synchronous=FULL")
        with self._write():
            migrations.apply(self.db)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> KioskStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction, taking the write lock up front.

        BEGIN IMMEDIATE makes a second writer wait (busy timeout) at the start instead of failing
        with "database is locked" when a read transaction tries to upgrade.
        """
        conn = self.db.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.OperationalError as error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
                self._full = f"the kiosk's disk is full: nothing was written ({error})"
                raise StoreFull(self._full) from error
            raise
        self._full = None

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.db.execute(sql, params).fetchone()
        return None if row is None else row[0]

    # Responses -----------------------------------------------------------------------------

    def start_response(
        self,
        survey_id: str,
        survey_version: int,
        language: str,
        channel: Channel | str = Channel.KIOSK,
        suspect: bool = False,
        visit_id: str | None = None,
    ) -> str:
        """A visitor's first tap: returns the new response id (also its future record id)."""
        # Validated now, so that sealing later cannot fail on data already on disk.
        AnswerPayload(
            survey_id=survey_id,
            survey_version=survey_version,
            channel=channel,
            language=language,
            status=ResponseStatus.PARTIAL,
            answers={},
            visit_id=visit_id,
        )
        response_id = new_record_id()
        with self._write():
            self.db.execute(
                """INSERT INTO responses (id, survey_id, survey_version, language, channel,
                       suspect, visit_id, started_at, started_monotonic_ms)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    response_id,
                    survey_id,
                    survey_version,
                    language,
                    str(Channel(channel)),
                    int(suspect),
                    visit_id,
                    _iso(self.clock.now()),
                    self.clock.monotonic_ms(),
                ),
            )
        return response_id

    def record_answer(
        self, response_id: str, question_id: str, value: str | int | Sequence[str]
    ) -> None:
        """Store one answer (replacing an earlier answer to the same question)."""
        if isinstance(value, tuple):
            value = list(value)
        entry = _ANSWERS.validate_python({question_id: value})
        with self._write():
            answers = json.loads(self._open_response(response_id)["answers"])
            answers.update(entry)
            self.db.execute(
                "UPDATE responses SET answers = ? WHERE id = ?",
                (json.dumps(answers, ensure_ascii=False), response_id),
            )

    def replace_answers(
        self, response_id: str, answers: Mapping[str, str | int | Sequence[str]]
    ) -> None:
        """Store the visitor's answers as they now stand (one changed, or withdrawn going back)."""
        entries = _ANSWERS.validate_python(
            {k: list(v) if isinstance(v, tuple) else v for k, v in answers.items()}
        )
        with self._write():
            self._open_response(response_id)
            self.db.execute(
                "UPDATE responses SET answers = ? WHERE id = ?",
                (json.dumps(entries, ensure_ascii=False), response_id),
            )

    def set_comment(self, response_id: str, text: str | None) -> None:
        """Store the visitor's comment; blank text removes it."""
        text = (text or "").strip() or None
        if text is not None and len(text) > MAX_COMMENT_LENGTH:
            raise ValueError(f"a comment is at most {MAX_COMMENT_LENGTH} characters")
        with self._write():
            self._open_response(response_id)
            self.db.execute("UPDATE responses SET comment = ? WHERE id = ?", (text, response_id))

    def seal_response(self, response_id: str, status: ResponseStatus | str) -> bool:
        """Close the response and queue it for upload, atomically.

        Returns False (and changes nothing) when it was already sealed. Raises
        `ResponseNotOpen` for an unknown id.
        """
        status = ResponseStatus(status)
        with self._write():
            row = self._response(response_id)
            if row is None:
                raise ResponseNotOpen(response_id)
            if row["status"] != "open":
                return False
            self._seal(row, status)
        return True

    def seal_abandoned_responses(self) -> int:
        """At start-up: responses left open by a crash become partial and are queued.

        A response with no answer at all (nothing was tapped) is deleted instead. Returns the
        number sealed.
        """
        sealed = 0
        with self._write():
            rows = list(self.db["responses"].rows_where("status = 'open'", order_by="rowid"))
            for row in rows:
                if json.loads(row["answers"]):
                    self._seal(row, ResponseStatus.PARTIAL)
                    sealed += 1
                else:
                    self.db.execute("DELETE FROM responses WHERE id = ?", (row["id"],))
        return sealed

    def response(self, response_id: str) -> dict[str, Any] | None:
        """The stored response as a dict (answers decoded), for the UI and tests."""
        row = self._response(response_id)
        if row is not None:
            row["answers"] = json.loads(row["answers"])
            row["suspect"] = bool(row["suspect"])
        return row

    def last_press_monotonic_ms(self) -> int | None:
        """Monotonic time of the latest response start, for `is_suspect_press`."""
        return self._one("SELECT started_monotonic_ms FROM responses ORDER BY rowid DESC LIMIT 1")

    def press_is_suspect(self, interval_seconds: float) -> bool:
        """Would a press now be a repeat of the previous one (within `interval_seconds`)?"""
        return is_suspect_press(
            self.last_press_monotonic_ms(), self.clock.monotonic_ms(), interval_seconds
        )

    def purge_uploaded_responses(self, older_than: timedelta) -> int:
        """Delete sealed responses the server has acknowledged, started before now - older_than.

        The outbox holds what still has to be sent; the local copy is kept only for a while.
        """
        cutoff = _iso(self.clock.now() - older_than)
        with self._write():
            cursor = self.db.execute(
                """DELETE FROM responses
                   WHERE status != 'open' AND started_at < ?
                     AND id NOT IN (SELECT id FROM outbox)""",
                (cutoff,),
            )
        return cursor.rowcount

    def _response(self, response_id: str) -> dict[str, Any] | None:
        rows = list(self.db["responses"].rows_where("id = ?", [response_id]))
        return rows[0] if rows else None

    def _open_response(self, response_id: str) -> dict[str, Any]:
        row = self._response(response_id)
        if row is None or row["status"] != "open":
            raise ResponseNotOpen(response_id)
        return row

    def _seal(self, row: dict[str, Any], status: ResponseStatus) -> None:
        payload = AnswerPayload(
            survey_id=row["survey_id"],
            survey_version=row["survey_version"],
            channel=row["channel"],
            language=row["language"],
            status=status,
            suspect=bool(row["suspect"]),
            answers=json.loads(row["answers"]),
            comment=row["comment"],
            visit_id=row["visit_id"],
        )
        self.db.execute(
            "UPDATE responses SET status = ?, sealed_at = ? WHERE id = ?",
            (str(status), _iso(self.clock.now()), row["id"]),
        )
        # The record is dated at the first tap: that is when the visitor was served.
        self._enqueue(
            row["id"],
            RecordKind.ANSWER,
            payload,
            row["started_at"],
            row["started_monotonic_ms"],
        )

    # Outbox --------------------------------------------------------------------------------

    def add_record(self, kind: RecordKind | str, payload_model: BaseModel) -> str:
        """Queue any other record (e.g. a visit event) captured now; returns its id."""
        kind = RecordKind(kind)
        expected = PAYLOAD_MODELS[kind]
        if not isinstance(payload_model, expected):
            raise TypeError(f"a {kind} record needs a {expected.__name__}")
        record_id = new_record_id()
        with self._write():
            self._enqueue(
                record_id, kind, payload_model, _iso(self.clock.now()), self.clock.monotonic_ms()
            )
        return record_id

    def record_visit_event(self, payload: VisitEventPayload, boot_id: str | None) -> dict[str, Any]:
        """Keep a visit event on the device and queue it for upload, in one transaction.

        Returns the stored row (as `visit_events` returns them), durable when this returns."""
        record_id = new_record_id()
        device_time, monotonic_ms = _iso(self.clock.now()), max(self.clock.monotonic_ms(), 0)
        row = {
            "id": record_id,
            "visit_id": str(payload.visit_id),
            "event": str(payload.event),
            "ticket": payload.ticket,
            "reason": payload.reason,
            "wait_seconds": payload.wait_seconds,
            "cancels": str(payload.cancels) if payload.cancels else None,
            "device_time": device_time,
            "monotonic_ms": monotonic_ms,
            "boot_id": boot_id,
        }
        with self._write():
            self.db["visit_events"].insert(row)
            self._enqueue(record_id, RecordKind.VISIT_EVENT, payload, device_time, monotonic_ms)
        return row

    def visit_events(self, since: datetime) -> list[dict[str, Any]]:
        """Visit events kept on the device, captured at or after `since`, in capture order."""
        return list(
            self.db["visit_events"].rows_where(
                "device_time >= ?",
                [_iso(since.astimezone(UTC))],
                order_by="seq",
                select="id, visit_id, event, ticket, reason, wait_seconds, cancels, "
                "device_time, monotonic_ms, boot_id",
            )
        )

    def enqueue_many(
        self, records: Iterable[tuple[RecordKind | str, BaseModel, datetime, int]]
    ) -> int:
        """Queue many records captured earlier, in one transaction; returns how many.

        Each item is (kind, payload model, device time, monotonic ms). For tests and the
        benchmark, which need a month of captures in seconds; the kiosk itself uses
        `seal_response` and `add_record`.
        """
        rows = []
        for kind, payload_model, device_time, monotonic_ms in records:
            kind = RecordKind(kind)
            if not isinstance(payload_model, PAYLOAD_MODELS[kind]):
                raise TypeError(f"a {kind} record needs a {PAYLOAD_MODELS[kind].__name__}")
            rows.append(
                self._outbox_row(
                    new_record_id(), kind, payload_model, _iso(device_time), monotonic_ms
                )
            )
        with self._write():
            self.db.conn.executemany(_INSERT_OUTBOX, rows)
        return len(rows)

    def _enqueue(
        self,
        record_id: str,
        kind: RecordKind,
        payload_model: BaseModel,
        device_time: str,
        monotonic_ms: int,
    ) -> None:
        self.db.execute(
            _INSERT_OUTBOX,
            self._outbox_row(record_id, kind, payload_model, device_time, monotonic_ms),
        )

    @staticmethod
    def _outbox_row(
        record_id: str,
        kind: RecordKind,
        payload_model: BaseModel,
        device_time: str,
        monotonic_ms: int,
    ) -> tuple[Any, ...]:
        payload = payload_model.model_dump(mode="json")
        text = canonical_json(payload)
        return (
            record_id,
            str(kind),
            text,
            payload_hash(payload),
            device_time,
            max(monotonic_ms, 0),
            len(text.encode("utf-8")) + RECORD_ENVELOPE_BYTES,
        )

    def pending_records(self, max_count: int = 200, max_bytes: int = 512_000) -> list[RecordIn]:
        """The oldest unsent records, in capture order, bounded by count and approximate bytes.

        Always returns at least one record when any is pending, so one big record cannot stall
        the queue. Conflicting or rejected records are never returned.
        """
        max_count = max(1, min(max_count, MAX_RECORDS_PER_BATCH))
        cursor = self.db.execute(
            """SELECT id, kind, payload, payload_hash, device_time, monotonic_ms, size_bytes
               FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT ?""",
            (max_count,),
        )
        records: list[RecordIn] = []
        unreadable: list[str] = []
        total = 0
        for record_id, kind, payload, hash_, device_time, monotonic_ms, size in cursor.fetchall():
            if records and total + size > max_bytes:
                break
            try:
                record = RecordIn(
                    id=record_id,
                    kind=kind,
                    payload_hash=hash_,
                    device_time=device_time,
                    monotonic_ms=monotonic_ms,
                    payload=json.loads(payload),
                )
            except (ValueError, TypeError):
                unreadable.append(record_id)
                continue
            total += size
            records.append(record)
        if unreadable:
            self._hold_unreadable(unreadable)
            if not records:
                return self.pending_records(max_count, max_bytes)
        return records

    def _hold_unreadable(self, record_ids: list[str]) -> None:
        """A row that cannot even be read (damaged file, old bug) is set aside like a server
        rejection, so that it never blocks the queue; it stays in the file for an admin."""
        now = _iso(self.clock.now())
        with self._write():
            self.db.conn.executemany(
                """UPDATE outbox SET state = 'rejected', last_code = 'unreadable_record',
                       held_at = ? WHERE id = ?""",
                [(now, record_id) for record_id in record_ids],
            )

    def mark_attempted(self, record_ids: Iterable[str]) -> None:
        """Count one more upload attempt for these records (seen on the staff screen)."""
        with self._write():
            self.db.conn.executemany(
                "UPDATE outbox SET attempts = attempts + 1 WHERE id = ?",
                [(str(record_id),) for record_id in record_ids],
            )

    def apply_acks(self, acks: Iterable[Ack]) -> AckSummary:
        """Forget what the server stored; set conflicting and rejected records aside.

        Set-aside records stay in the file (for a human and for export) but are never sent again,
        so they cannot block the queue.
        """
        forgotten = duplicates = conflicts = rejected = unknown = 0
        now = _iso(self.clock.now())
        with self._write():
            for ack in acks:
                record_id = str(ack.id)
                if ack.status in FORGETTABLE:
                    cursor = self.db.execute("DELETE FROM outbox WHERE id = ?", (record_id,))
                    if cursor.rowcount:
                        forgotten += 1
                        duplicates += ack.status == AckStatus.DUPLICATE
                    else:
                        unknown += 1
                    continue
                cursor = self.db.execute(
                    """UPDATE outbox SET state = ?, last_code = ?, held_at = ?
                       WHERE id = ?""",
                    (str(ack.status), ack.code, now, record_id),
                )
                if not cursor.rowcount:
                    unknown += 1
                elif ack.status == AckStatus.CONFLICT:
                    conflicts += 1
                else:
                    rejected += 1
        return AckSummary(forgotten, duplicates, conflicts, rejected, unknown)

    def backlog(self) -> int:
        """Records still to send (set-aside records not included)."""
        return self._one("SELECT count(*) FROM outbox WHERE state = 'pending'")

    def held_count(self) -> int:
        """Records the server refused (conflict or rejected), kept on the device."""
        return self._one("SELECT count(*) FROM outbox WHERE state != 'pending'")

    def held_records(self) -> list[dict[str, Any]]:
        """Records the server refused (conflict or rejected), oldest first, with their code."""
        return list(
            self.db["outbox"].rows_where(
                "state != 'pending'",
                select="id, kind, state, last_code, device_time, held_at, payload",
                order_by="seq",
            )
        )

    def oldest_pending_age_seconds(self) -> float | None:
        """How long the oldest unsent record has waited (wall clock), None when none waits."""
        device_time = self._one(
            "SELECT device_time FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT 1"
        )
        if device_time is None:
            return None
        age = (self.clock.now() - datetime.fromisoformat(device_time)).total_seconds()
        return max(age, 0.0)  # a wall clock set back must not show a negative age

    # Settings ------------------------------------------------------------------------------

    def _settings(self, *keys: str) -> dict[str, Any]:
        marks = ", ".join("?" for _ in keys)
        rows = self.db.execute(
            f"SELECT key, value FROM settings WHERE key IN ({marks})",  # noqa: S608 - only "?"s
            keys,
        ).fetchall()
        return {key: json.loads(value) for key, value in rows}

    def _save_settings(self, values: dict[str, Any]) -> None:
        with self._write():
            for key, value in values.items():
                if value is None:
                    self.db.execute("DELETE FROM settings WHERE key = ?", (key,))
                else:
                    self.db.execute(
                        "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)",
                        (key, json.dumps(value, ensure_ascii=False)),
                    )

    _CREDENTIAL_KEYS = (
        "server_url",
        "device_id",
        "token",
        "site",
        "service",
        "mode",
        "visit_link_secret",
        "device_name",
    )

    def credentials(self) -> Credentials | None:
        """This device's enrolment, or None before enrolment."""
        values = self._settings(*self._CREDENTIAL_KEYS)
        if any(values.get(key) is None for key in self._CREDENTIAL_KEYS[:5]):
            return None
        return Credentials(**values)

    def save_credentials(self, credentials: Credentials) -> None:
        values = {key: getattr(credentials, key) for key in self._CREDENTIAL_KEYS}
        self._save_settings({**values, "token_issued_at": _iso(self.clock.now())})

    def save_rotated_token(self, token: str) -> None:
        """Keep the token a rotation just gave, durably, before the client ever uses it.

        Until it is used the server still accepts the old one, so a crash on either side of this
        call never locks the device out.
        """
        if self.credentials() is None:
            raise StoreError("a token can only be rotated on an enrolled device")
        self._save_settings({"token": token, "token_issued_at": _iso(self.clock.now())})

    def token_issued_at(self) -> datetime | None:
        """When the current token was received (enrolment or rotation); None if not known."""
        return _parse_time(self._settings("token_issued_at").get("token_issued_at"))

    def clear_credentials(self) -> None:
        """Forget the enrolment (e.g. before re-enrolling); unsent records are kept."""
        self._save_settings(dict.fromkeys((*self._CREDENTIAL_KEYS, "token_issued_at")))

    def cached_config(self) -> CachedConfig | None:
        """The last configuration received, or None if none was ever received."""
        values = self._settings("config", "config_etag")
        if "config" not in values:
            return None
        return CachedConfig(values["config"], values.get("config_etag"))

    def save_config(self, cached: CachedConfig) -> None:
        self._save_settings({"config": cached.config, "config_etag": cached.etag})

    _TIME_KEYS = ("last_sync_at", "last_attempt_at", "next_attempt_at")
    _STATUS_KEYS = (
        *_TIME_KEYS,
        "last_error",
        "last_error_code",
        "clock_offset_ms",
        "consecutive_failures",
    )

    def sync_status(self) -> SyncStatus:
        """What the staff screen shows; a full disk met by this store overrides the last error."""
        values = self._settings(*self._STATUS_KEYS)
        for key in self._TIME_KEYS:
            values[key] = _parse_time(values.get(key))
        values.setdefault("consecutive_failures", 0)
        if self._full is not None:
            values.update(last_error=self._full, last_error_code=StoreFull.code)
        return SyncStatus(**values)

    @property
    def disk_full(self) -> bool:
        """True since a write was refused for lack of space, until a write succeeds again."""
        return self._full is not None

    def save_sync_status(self, status: SyncStatus) -> None:
        values: dict[str, Any] = {key: getattr(status, key) for key in self._STATUS_KEYS}
        for key in self._TIME_KEYS:
            values[key] = None if values[key] is None else _iso(values[key])
        self._save_settings(values)

    def applied_migrations(self) -> list[str]:
        """Names of the schema migrations recorded in this file, in order."""
        return [migration.name for migration in migrations.applied(self.db)]
