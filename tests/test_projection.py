"""The records log is the source of the figures: accepting only appends to it, the projection
derives every table from it once, reads catch up first, a restart finishes what was logged, a
record that cannot be derived is skipped alone, and an upload reaches the figures over HTTP."""

from __future__ import annotations

import logging
import sqlite3
import time as clock
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from kiosk.core.sync_client import SyncClient
from qualivilles.protocol import RecordKind, canonical_json
from qualivilles.scrub import EMAIL_MARK, PHONE_MARK
from sync_server.storage import (
    Source,
    Storage,
    db,
    exports,
    migrations,
    projection,
    quality,
    schema,
    town,
    uploads,
    visits,
)
from sync_server.storage import counts as answer_counts
from tests.fixtures.server import (
    SERVICE,
    SITE,
    TOWN,
    answer_payload,
    enrolled_since,
    make_record,
)

KIOSK = Source(site=SITE, service=SERVICE, channel="kiosk", device_id=None)
TABLET = Source(site=SITE, service=SERVICE, channel="tablet", device_id=None)
# 30 March 2025, the spring DST change in Paris; the whole local day in UTC.
DAY_START = datetime(2025, 3, 29, 23, 0, tzinfo=UTC)
DAY_END = datetime(2025, 3, 30, 22, 0, tzinfo=UTC)
DERIVED = (
    "answers",
    "answer_items",
    "comments",
    "visit_events",
    "visits",
    "answer_days",
    "item_days",
)


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    storage = Storage.from_url(f"sqlite:///{tmp_path / 'server.db'}")
    migrations.upgrade(storage)
    with storage.write() as connection:
        town.load_town(connection, TOWN)
    yield storage
    storage.close()


def sql(storage: Storage, query: str, *params: Any) -> list[tuple]:
    """Plain SQL on the file, behind Storage's back (no catch-up)."""
    path = storage.engine.url.database
    with sqlite3.connect(path) as connection:
        return connection.execute(query, params).fetchall()


def row_count(storage: Storage, table: str) -> int:
    with storage.read() as connection:
        return schema.row_count(connection, table)


def in_one_read(storage: Storage, read: Callable[..., Any], *args: Any) -> Any:
    """`read(connection, *args)` in one `storage.read()`, as the pages and indicators call it."""
    with storage.read() as connection:
        return read(connection, *args)


def derived_counts(storage: Storage) -> dict[str, int]:
    return {table: sql(storage, f"SELECT count(*) FROM {table}")[0][0] for table in DERIVED}


def log_position(storage: Storage) -> tuple[int, int]:
    """(projection position, last seq of the log)."""
    with db.read(storage.engine) as connection:
        last = connection.exec_driver_sql("SELECT max(seq) FROM records").scalar()
        return projection.position(connection), int(last or 0)


def a_day_of_records() -> tuple[list, list]:
    """Answers (one with a comment, one with follow-up items) and a served visit, on DAY."""
    at = DAY_START + timedelta(hours=8)
    answers = [
        make_record(answer_payload("satisfied"), at=at),
        make_record(
            answer_payload(
                None,
                answers={"overall": "dissatisfied", "why_unhappy": ["waiting", "welcome"]},
                comment="Trop d'attente au guichet",
            ),
            at=at + timedelta(minutes=5),
        ),
        make_record(answer_payload("no_opinion", status="partial"), at=at + timedelta(minutes=9)),
    ]
    visit_id = str(uuid.uuid4())
    events = [
        make_record({"visit_id": visit_id, "event": "arrived"}, RecordKind.VISIT_EVENT, at),
        make_record(
            {"visit_id": visit_id, "event": "taken_in_charge"},
            RecordKind.VISIT_EVENT,
            at + timedelta(minutes=6),
        ),
    ]
    return answers, events


# What `a_day_of_records` projects to: items are the three main answers and two reasons.
PROJECTED = {"answers": 3, "answer_items": 5, "comments": 1, "visit_events": 2, "visits": 1}


# Each read the figures make in a `storage.read()`, and what it must see of a day once
# projected (before, it sees nothing of it: reads never project).
READS: dict[str, tuple[Callable[[Storage], Any], Callable[[Any], bool]]] = {
    "main_level_counts": (
        lambda s: in_one_read(s, answer_counts.main_level_counts, s.zone, DAY_START, DAY_END),
        lambda rows: sum(r.count for r in rows) == 3,
    ),
    "main_level_counts_raw": (  # not on midnights: the answers table, not the rollups
        lambda s: in_one_read(
            s, answer_counts.main_level_counts, s.zone, DAY_START + timedelta(hours=1), DAY_END
        ),
        lambda rows: sum(r.count for r in rows) == 3,
    ),
    "answer_quality": (
        lambda s: in_one_read(s, answer_counts.answer_quality, s.zone, DAY_START, DAY_END),
        lambda rows: sum(r.count for r in rows) == 3,
    ),
    "item_counts": (
        lambda s: in_one_read(s, answer_counts.item_counts, s.zone, DAY_START, DAY_END),
        lambda rows: sum(r.count for r in rows) == 5,
    ),
    "comment_register": (
        lambda s: in_one_read(s, quality.register),
        lambda rows: [r.text for r in rows] == ["Trop d'attente au guichet"],
    ),
    "comment_categories": (
        lambda s: in_one_read(s, quality.comment_categories, DAY_START, DAY_END),
        lambda rows: sum(rows.values()) == 1,
    ),
    "count": (lambda s: row_count(s, "answers"), lambda n: n == 3),
    "answer_rows": (
        lambda s: in_one_read(s, lambda c: list(exports.answer_rows(c, DAY_START, DAY_END))),
        lambda rows: len(rows) == 3,
    ),
    "visit_facts": (
        lambda s: in_one_read(s, visits.visit_facts, DAY_START, DAY_END),
        lambda facts: [outcome for _, outcome, _ in facts.get((SITE, SERVICE), [])] == ["served"],
    ),
    "served_waits": (
        lambda s: in_one_read(s, visits.served_waits, DAY_START, DAY_END),
        lambda waits: waits == {(SITE, SERVICE): [360.0]},
    ),
    "visitor_counts": (
        lambda s: in_one_read(s, visits.visitor_counts, DAY_START, DAY_END),
        lambda counts: counts == {(SITE, SERVICE): 1},
    ),
}


@pytest.mark.parametrize("read", sorted(READS))
def test_logged_records_are_seen_by_every_read_once_projected_and_no_read_projects(storage, read):
    answers, events = a_day_of_records()
    acks = uploads.store_batch(storage, answers, KIOSK, project=False)
    acks += uploads.store_batch(storage, events, TABLET, project=False)
    assert {ack.status for ack in acks} == {"stored"}
    # Only the log was written: the figures' tables are empty.
    assert sql(storage, "SELECT count(*), min(seq), max(seq) FROM records") == [(5, 1, 5)]
    assert derived_counts(storage) == dict.fromkeys(DERIVED, 0)
    assert log_position(storage) == (0, 5)

    reader, sees_everything = READS[read]
    assert not sees_everything(reader(storage))
    assert log_position(storage) == (0, 5)  # the read projected nothing
    assert derived_counts(storage) == dict.fromkeys(DERIVED, 0)

    assert projection.catch_up(storage) == 5
    assert log_position(storage) == (5, 5)
    counts = derived_counts(storage)
    assert {t: counts[t] for t in PROJECTED} == PROJECTED
    assert counts["answer_days"] > 0
    assert counts["item_days"] > 0
    assert sees_everything(reader(storage))

    assert projection.catch_up(storage) == 0  # nothing left: nothing doubled
    assert derived_counts(storage) == counts
    assert sees_everything(reader(storage))


def test_the_log_keeps_desk_and_corrected_capture_time(storage):
    # The device clock is a day behind: its capture times are corrected by the measured offset.
    offset_ms = 24 * 3600 * 1000
    device_time = DAY_START + timedelta(hours=8) - timedelta(days=1)
    record = make_record(answer_payload("satisfied", comment="Très bien"), at=device_time)
    uploads.store_batch(storage, [record], KIOSK, clock_offset_ms=offset_ms, project=False)
    [(seq, site, service, logged_at)] = sql(
        storage, "SELECT seq, site, service, captured_at FROM records"
    )
    assert (seq, site, service) == (1, SITE, SERVICE)
    assert logged_at.startswith("2025-03-30 07:00:00")
    projection.catch_up(storage)
    with storage.read() as connection:
        main = answer_counts.main_level_counts(connection, storage.zone, DAY_START, DAY_END)
    assert [r.count for r in main] == [1]
    assert sql(storage, "SELECT captured_at, day FROM answers") == [(logged_at, "2025-03-30")]
    assert sql(storage, "SELECT site, service, captured_at FROM comments") == [
        (SITE, SERVICE, logged_at)
    ]


def test_a_restart_between_accepting_and_projecting_loses_nothing(tmp_path, storage):
    answers, events = a_day_of_records()
    uploads.store_batch(storage, answers, KIOSK, project=False)
    uploads.store_batch(storage, events, TABLET, project=False)
    url = str(storage.engine.url)
    storage.close()  # the process ends before the background projection ran

    restarted = Storage.from_url(url)
    try:
        assert derived_counts(restarted) == dict.fromkeys(DERIVED, 0)
        assert migrations.upgrade(restarted) == []  # no schema change: it projects what is pending
        assert log_position(restarted) == (5, 5)
        counts = derived_counts(restarted)
        assert {t: counts[t] for t in PROJECTED} == PROJECTED
        migrations.upgrade(restarted)
        assert projection.catch_up(restarted) == 0
        assert derived_counts(restarted) == counts
        with restarted.read() as connection:
            main = answer_counts.main_level_counts(connection, restarted.zone, DAY_START, DAY_END)
        assert sum(r.count for r in main) == 3
    finally:
        restarted.close()


def test_a_comment_with_contact_details_is_scrubbed_and_flagged_from_the_log(storage):
    typed = "Écrivez-moi à jean.dupont@example.fr ou au 06 12 34 56 78"
    record = make_record(
        answer_payload(None, answers={"overall": "satisfied", "comment": typed}, comment=typed)
    )
    [ack] = uploads.store_batch(storage, [record], KIOSK, project=False)
    assert ack.status == "stored"
    [(logged,)] = sql(storage, "SELECT payload FROM records")
    assert "example.fr" not in logged
    assert "06 12" not in logged
    assert sql(storage, "SELECT count(*) FROM comments") == [(0,)]

    projection.catch_up(storage)  # projected from the scrubbed log
    with storage.read() as connection:
        entries = quality.register(connection)
    expected = f"Écrivez-moi à {EMAIL_MARK} ou au {PHONE_MARK}"
    assert sorted((e.question_id or "", e.text, e.flagged) for e in entries) == [
        ("", expected, True),
        ("comment", expected, True),
    ]
    assert sql(storage, "SELECT text, flagged FROM comments") == [(expected, 1), (expected, 1)]
    # The same upload again is a duplicate (the log keeps the hash of what was sent).
    [again] = uploads.store_batch(storage, [record], KIOSK, project=False)
    assert again.status == "duplicate"


BROKEN = {
    "not_json": ("answer", "{not json"),
    "not_an_answer": ("answer", canonical_json({"survey_id": "qualivilles-accueil"})),
    "unknown_survey": ("answer", canonical_json(answer_payload("satisfied", survey_version=99))),
    "not_in_survey": ("answer", canonical_json(answer_payload("delighted"))),
    "bad_visit_event": ("visit_event", canonical_json({"visit_id": "nope", "event": "arrived"})),
}


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_a_record_that_cannot_be_projected_is_skipped_alone(storage, caplog, broken):
    before = make_record(answer_payload("satisfied"), at=DAY_START + timedelta(hours=9))
    uploads.store_batch(storage, [before], KIOSK, project=False)
    # A record in the log that accepting would have refused (written by hand, say).
    kind, payload = BROKEN[broken]
    broken_id = str(uuid.uuid4())
    at = "2025-03-30 09:00:00.000000"
    sql(
        storage,
        "INSERT INTO records (id, kind, device_id, payload_hash, payload, device_time,"
        " monotonic_ms, received_at, seq, site, service, captured_at)"
        " VALUES (?, ?, NULL, ?, ?, ?, 0, ?, 2, ?, ?, ?)",
        broken_id, kind, "0" * 64, payload, at, at, SITE, SERVICE, at,
    )  # fmt: skip
    sql(storage, "INSERT INTO records_pending (seq, received_at) VALUES (2, ?)", at)
    after = make_record(answer_payload("very_satisfied"), at=DAY_START + timedelta(hours=10))
    uploads.store_batch(storage, [after], KIOSK, project=False)
    assert sql(storage, "SELECT seq FROM records WHERE id = ?", str(after.id)) == [(3,)]

    with caplog.at_level(logging.ERROR, logger=projection.__name__):
        assert projection.catch_up(storage) == 3
    [message] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert broken_id in message.getMessage()
    assert log_position(storage) == (3, 3)
    ids = {row[0] for row in sql(storage, "SELECT id FROM answers")}
    assert ids == {str(before.id), str(after.id)}
    assert sql(storage, "SELECT count(*) FROM visit_events") == [(0,)]
    with storage.read() as connection:
        main = answer_counts.main_level_counts(connection, storage.zone, DAY_START, DAY_END)
    assert sum(r.count for r in main) == 2
    assert projection.catch_up(storage) == 0


# -- over HTTP ------------------------------------------------------------------------------------


def wait_for(condition: Callable[[], bool], seconds: float = 10) -> bool:
    """Poll `condition` (a database read, which lets the server's threads run) until it holds
    or the time is up: the projection runs after the reply."""
    deadline = clock.monotonic() + seconds
    while clock.monotonic() < deadline:
        if condition():
            return True
    return condition()


def test_an_upload_reaches_the_figures_and_a_retry_doubles_nothing(live_server):
    credentials = SyncClient.enrol(live_server.url, live_server.enrol(SITE, SERVICE), "test")
    enrolled_since(live_server.storage, credentials.device_id)  # before the records' 2025 dates
    # Around the end of March in Paris: 23:30 on the 31st counts in March, 00:30 on 1 April not.
    march = [datetime(2025, 3, 31, 21, 30, tzinfo=UTC) + timedelta(seconds=i) for i in range(5)]
    april = datetime(2025, 3, 31, 22, 30, tzinfo=UTC)
    choices = ["very_satisfied", "satisfied", "satisfied", "dissatisfied", "very_satisfied"]
    batch = [make_record(answer_payload(c), at=at) for c, at in zip(choices, march, strict=True)]
    batch.append(make_record(answer_payload("very_dissatisfied"), at=april))

    with SyncClient.from_credentials(credentials, timeout=(2, 10)) as client:
        acks = client.upload(batch)
        assert [ack.status for ack in acks] == ["stored"] * 6
        # Right after the acks, whether or not the background projection has run yet: what the
        # figures do not count yet, the answer says is pending.
        session = live_server.login_session(requests.Session())
        query = {"from": "2025-03", "to": "2025-04", "site": SITE, "service": SERVICE}

        def indicators() -> dict:
            answer = session.get(f"{live_server.url}/api/v1/indicators", params=query, timeout=10)
            assert answer.status_code == 200, answer.text
            return answer.json()

        def counted(body: dict) -> int:
            return sum(row["figures"]["answers"]["value"] or 0 for row in body["rows"])

        first = indicators()
        assert counted(first) + first["figures_lag"]["pending_records"] == 6

        storage = live_server.storage
        assert wait_for(lambda: log_position(storage) == (6, 6))
        body = indicators()
        assert body["figures_lag"] == {"pending_records": 0, "oldest_received_at": None}
        by_month = {row["period"]: row["figures"] for row in body["rows"]}
        assert by_month["2025-03"]["answers"]["value"] == 5
        assert by_month["2025-03"]["satisfaction_rate"]["value"] == pytest.approx(80)
        assert by_month["2025-04"]["answers"]["value"] == 1

        storage = live_server.storage
        assert wait_for(lambda: log_position(storage) == (6, 6))
        counts = derived_counts(storage)
        assert (counts["answers"], rollup_total(storage)) == (6, 6)

        again = client.upload(batch)
        assert [ack.status for ack in again] == ["duplicate"] * 6
    assert log_position(storage) == (6, 6)
    assert projection.catch_up(storage) == 0
    assert derived_counts(storage) == counts
    assert rollup_total(storage) == 6
    assert [row[0] for row in sql(storage, "SELECT day FROM answer_days GROUP BY day")] == [
        "2025-03-31",
        "2025-04-01",
    ]


def rollup_total(storage: Storage) -> int:
    return sql(storage, "SELECT coalesce(sum(answers), 0) FROM answer_days")[0][0]
