"""Migration 0008_projection on a database written by the code before it: the log gets its order,
desk and capture time back from the derived rows, comments their desk and time, answers their
local day, the rollups are built once, and nothing already derived is projected again."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from qualivilles.protocol import RecordIn, RecordKind, canonical_json
from sync_server.storage import (
    Source,
    Storage,
    counts,
    db,
    migrations,
    projection,
    rollups,
    schema,
    uploads,
)
from tests.fixtures.server import SERVICE, SITE, answer_payload, make_record

PARIS = ZoneInfo("Europe/Paris")
OTHER_SITE, OTHER_SERVICE = "hotel-de-ville", "etat-civil"
DEVICE = "3f6c1d52-8d9e-4f0a-9b1c-2d3e4f5a6b7c"


def text_time(at: datetime) -> str:
    """A time as SQLAlchemy wrote it to SQLite: naive UTC with microseconds."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), PARIS).astimezone(UTC)


class OldDatabase:
    """Rows written with plain SQL as the 0007 schema and the code of that time had them."""

    def __init__(self, connection: sa.Connection):
        self.connection = connection
        self.ids: list[str] = []
        self.payloads: dict[str, dict[str, Any]] = {}

    def record(self, kind: str, payload: dict[str, Any], at: datetime) -> str:
        record_id = str(uuid.uuid4())
        text = canonical_json(payload)
        self.connection.execute(
            sa.text(
                "INSERT INTO records (id, kind, device_id, payload_hash, payload, device_time,"
                " monotonic_ms, received_at) VALUES (:id, :kind, :device, :hash, :payload,"
                " :at, 1000, :received)"
            ),
            {
                "id": record_id,
                "kind": kind,
                "device": DEVICE,
                "hash": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                "payload": text,
                "at": text_time(at),
                "received": text_time(at + timedelta(minutes=1)),
            },
        )
        self.ids.append(record_id)
        self.payloads[record_id] = payload
        return record_id

    def answer(
        self,
        at: datetime,
        main: str | None,
        answers: dict[str, str | list[str]],
        *,
        desk: tuple[str, str] = (SITE, SERVICE),
        suspect: bool = False,
        status: str = "complete",
        comment: str | None = None,
    ) -> str:
        payload = answer_payload(None, answers=answers, suspect=suspect, status=status)
        if comment:
            payload["comment"] = comment
        answer_id = self.record("answer", payload, at)
        level = {"very_dissatisfied": 0, "dissatisfied": 1, "satisfied": 2, "very_satisfied": 3}
        self.connection.execute(
            sa.text(
                "INSERT INTO answers (id, device_id, channel, site, service, survey_id,"
                " survey_version, status, suspect, language, captured_at, main_choice,"
                " main_level, main_levels, visit_id) VALUES (:id, :device, 'kiosk', :site,"
                " :service, 'qualivilles-accueil', 1, :status, :suspect, 'fr', :at, :main,"
                " :level, :levels, NULL)"
            ),
            {
                "id": answer_id,
                "device": DEVICE,
                "site": desk[0],
                "service": desk[1],
                "status": status,
                "suspect": suspect,
                "at": text_time(at),
                "main": main,
                "level": level.get(main or ""),
                "levels": 4 if main in level else None,
            },
        )
        for question, chosen in answers.items():
            for value in [chosen] if isinstance(chosen, str) else chosen:
                self.connection.execute(
                    sa.text("INSERT INTO answer_items VALUES (:id, :question, :value)"),
                    {"id": answer_id, "question": question, "value": value},
                )
        if comment:
            self.connection.execute(
                sa.text(
                    "INSERT INTO comments (answer_id, question_id, text, flagged)"
                    " VALUES (:id, NULL, :text, 0)"
                ),
                {"id": answer_id, "text": comment},
            )
        return answer_id

    def served_visit(self, arrived: datetime, minutes: int) -> list[str]:
        visit_id = str(uuid.uuid4())
        ids = []
        taken = arrived + timedelta(minutes=minutes)
        for event, at in (("arrived", arrived), ("taken_in_charge", taken)):
            event_id = self.record("visit_event", {"visit_id": visit_id, "event": event}, at)
            self.connection.execute(
                sa.text(
                    "INSERT INTO visit_events (id, visit_id, event, at) VALUES (:id, :visit,"
                    " :event, :at)"
                ),
                {"id": event_id, "visit": visit_id, "event": event, "at": text_time(at)},
            )
            ids.append(event_id)
        self.connection.execute(
            sa.text(
                "INSERT INTO visits (id, device_id, site, service, arrived_at, taken_at, outcome,"
                " wait_seconds) VALUES (:id, :device, :site, :service, :arrived, :taken,"
                " 'served', :wait)"
            ),
            {
                "id": visit_id,
                "device": DEVICE,
                "site": SITE,
                "service": SERVICE,
                "arrived": text_time(arrived),
                "taken": text_time(taken),
                "wait": minutes * 60.0,
            },
        )
        return ids


# 30 March 2025, the spring DST change in Paris: 00:30 local is 23:30 UTC the day before.
EARLY = datetime(2025, 3, 29, 23, 30, tzinfo=UTC)  # 30 March, 00:30 in Paris
LATE = datetime(2025, 3, 30, 21, 59, 59, 999999, tzinfo=UTC)  # 30 March, 23:59:59.999999
NEXT = datetime(2025, 3, 30, 22, 0, tzinfo=UTC)  # 31 March, 00:00
BEFORE = datetime(2025, 3, 29, 22, 59, tzinfo=UTC)  # 29 March, 23:59 (winter time)


@pytest.fixture
def old(tmp_path):
    """A database at 0007 with answers, items, a comment and a visit; its OldDatabase."""
    storage = Storage.from_url(f"sqlite:///{tmp_path / 'old.db'}")
    migrations.migrate(storage.engine, migrations.MIGRATIONS[:7])
    with db.read(storage.engine) as connection:
        assert migrations.applied(connection) == {n for n, _ in migrations.MIGRATIONS[:7]}
    with storage.engine.begin() as connection:
        rows = OldDatabase(connection)
        rows.answer(EARLY, "satisfied", {"overall": "satisfied"}, comment="Très bon accueil")
        rows.answer(
            LATE,
            "very_dissatisfied",
            {"overall": "very_dissatisfied", "why_unhappy": ["waiting", "welcome"]},
        )
        rows.answer(NEXT, "no_opinion", {"overall": "no_opinion"}, suspect=True, status="partial")
        rows.answer(BEFORE, None, {"welcome": "satisfied"}, desk=(OTHER_SITE, OTHER_SERVICE))
        rows.served_visit(datetime(2025, 3, 30, 8, 0, tzinfo=UTC), 10)
    yield storage, rows
    storage.close()


def table_rows(storage: Storage, query: str, **params: Any) -> list[tuple]:
    with db.read(storage.engine) as connection:
        return [tuple(row) for row in connection.execute(sa.text(query), params)]


def test_an_old_database_is_upgraded_and_not_projected_again(old):
    storage, rows = old
    counts_before = {
        t: table_rows(storage, f"SELECT count(*) FROM {t}")[0][0]
        for t in ("answers", "answer_items", "comments", "visit_events", "visits")
    }
    assert counts_before == {
        "answers": 4, "answer_items": 6, "comments": 1, "visit_events": 2, "visits": 1
    }  # fmt: skip

    later = [name for name, _apply in migrations.MIGRATIONS[7:]]
    assert later[0] == "0008_projection"
    assert migrations.upgrade(storage) == later

    # The log: its order, desk and capture time come back from the derived rows.
    logged = table_rows(
        storage, "SELECT id, seq, site, service, captured_at FROM records ORDER BY seq"
    )
    assert [row[0] for row in logged] == rows.ids
    assert [row[1] for row in logged] == [1, 2, 3, 4, 5, 6]
    assert [(row[2], row[3]) for row in logged] == [
        (SITE, SERVICE), (SITE, SERVICE), (SITE, SERVICE), (OTHER_SITE, OTHER_SERVICE),
        (SITE, SERVICE), (SITE, SERVICE),
    ]  # fmt: skip
    assert [row[4] for row in logged] == [
        text_time(EARLY), text_time(LATE), text_time(NEXT), text_time(BEFORE),
        text_time(datetime(2025, 3, 30, 8, 0, tzinfo=UTC)),
        text_time(datetime(2025, 3, 30, 8, 10, tzinfo=UTC)),
    ]  # fmt: skip
    assert table_rows(storage, "SELECT site, service, captured_at FROM comments") == [
        (SITE, SERVICE, text_time(EARLY))
    ]
    # Local days, in Paris.
    days = dict(table_rows(storage, "SELECT id, day FROM answers"))
    expected = ["2025-03-30", "2025-03-30", "2025-03-31", "2025-03-29"]
    assert [days[i] for i in rows.ids[:4]] == expected
    with db.read(storage.engine) as connection:
        assert rollups.built_for(connection) == "Europe/Paris"
        assert projection.position(connection) == 6
    # Nothing projected twice.
    with storage.read() as connection:
        for table, count in counts_before.items():
            assert schema.row_count(connection, table) == count
    assert table_rows(storage, "SELECT sum(answers) FROM answer_days") == [(4,)]
    assert_rollups_equal_answers(storage)

    # Idempotency survives: an old record sent again is a duplicate.
    first = rows.ids[0]
    resent = RecordIn(
        id=first,
        kind=RecordKind.ANSWER,
        payload_hash=make_record(rows.payloads[first]).payload_hash,
        device_time=EARLY,
        monotonic_ms=1000,
        payload=rows.payloads[first],
    )
    source = Source(site=SITE, service=SERVICE, channel="kiosk")
    [ack] = uploads.store_batch(storage, [resent], source)
    assert ack.status == "duplicate"

    # A new answer after the upgrade follows the log and lands in the rollups of its day.
    new = make_record(answer_payload("very_satisfied"), at=datetime(2025, 3, 30, 12, 0, tzinfo=UTC))
    [ack] = uploads.store_batch(storage, [new], source, project=False)
    assert ack.status == "stored"
    assert table_rows(storage, "SELECT seq FROM records WHERE id = :id", id=str(new.id)) == [(7,)]
    assert projection.catch_up(storage) == 1
    day = (midnight(date(2025, 3, 30)), midnight(date(2025, 3, 31)))
    with storage.read() as connection:
        main = counts.main_level_counts(connection, storage.zone, *day)
    assert Counter({r.level: r.count for r in main}) == Counter({2: 1, 0: 1, 3: 1})
    with storage.read() as connection:
        assert schema.row_count(connection, "answers") == 5
    assert table_rows(storage, "SELECT sum(answers) FROM answer_days WHERE day = '2025-03-30'") == [
        (3,)
    ]
    assert_rollups_equal_answers(storage)
    assert migrations.upgrade(storage) == []
    with storage.read() as connection:
        assert schema.row_count(connection, "answers") == 5


def assert_rollups_equal_answers(storage: Storage) -> None:
    days = [date(2025, 3, 28) + timedelta(n) for n in range(5)]
    for first in days:
        for stop in days:
            if stop < first:
                continue
            start, end = midnight(first), midnight(stop)
            span = (first, stop)
            with db.read(storage.engine) as connection:
                assert Counter(
                    rollups.main_level_counts(
                        connection, span, sites=None, services=None, include_suspect=True
                    )
                ) == Counter(
                    counts.main_level_counts_from_answers(
                        connection, start, end, include_suspect=True
                    )
                )
                assert Counter(rollups.answer_quality(connection, span, services=None)) == Counter(
                    counts.answer_quality_from_answers(connection, start, end, services=None)
                )
                assert Counter(
                    rollups.item_counts(connection, span, services=None, include_suspect=False)
                ) == Counter(
                    counts.item_counts_from_answers(
                        connection, start, end, services=None, include_suspect=False
                    )
                )
