"""The kiosk store on real SQLite files: durability, sealing, the outbox, settings, concurrency."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from kiosk.core.clock import ManualClock
from kiosk.core.device_state import CachedConfig, Credentials, SyncStatus
from kiosk.core.store import KioskStore, ResponseNotOpen, StoreFull, is_suspect_press
from qualivilles.protocol import (
    Ack,
    AckStatus,
    RecordKind,
    ResponseStatus,
    VisitEvent,
    VisitEventPayload,
    new_record_id,
    payload_hash,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def clock():
    return ManualClock(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))


@pytest.fixture
def path(tmp_path):
    return tmp_path / "kiosk.db"


@pytest.fixture
def store(path, clock):
    with KioskStore(path, clock) as store:
        yield store


def answered(store, main="satisfied", **more):
    response_id = store.start_response("qualivilles-accueil", 1, "fr")
    store.record_answer(response_id, "overall", main)
    for question, value in more.items():
        store.record_answer(response_id, question, value)
    return response_id


def visit_event():
    return VisitEventPayload(visit_id=UUID(new_record_id()), event=VisitEvent.ARRIVED)


# Durability ----------------------------------------------------------------------------------


def test_the_file_is_in_wal_mode_with_full_sync(store):
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_an_answer_survives_closing_and_reopening(path, clock):
    with KioskStore(path, clock) as store:
        response_id = answered(store, welcome="very_satisfied")
        store.set_comment(response_id, "  Très bon accueil  ")
    with KioskStore(path, clock) as store:
        response = store.response(response_id)
    assert response["answers"] == {"overall": "satisfied", "welcome": "very_satisfied"}
    assert response["comment"] == "Très bon accueil"
    assert response["status"] == "open"


def test_an_answer_survives_the_process_being_killed(path):
    # The child records an answer and kills itself the instant record_answer returns.
    script = f"""
import os, signal, sys
from pathlib import Path
from kiosk.core.store import KioskStore
store = KioskStore(Path({str(path)!r}))
rid = store.start_response("qualivilles-accueil", 1, "fr")
store.record_answer(rid, "overall", "dissatisfied")
print(rid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""
    child = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    response_id = child.stdout.strip()
    with KioskStore(path) as store:
        assert store.response(response_id)["answers"] == {"overall": "dissatisfied"}
        assert store.seal_abandoned_responses() == 1
        assert [str(r.id) for r in store.pending_records()] == [response_id]


BURST_CHILD = """
import sys
from pathlib import Path
from kiosk.core.clock import SystemClock
from kiosk.core.store import KioskStore
from qualivilles.bundled import load_default_survey
from kiosk.core.visitor import DeskConfig, VisitorSession
store = KioskStore(Path(sys.argv[1]))
session = VisitorSession(store, SystemClock(), DeskConfig(survey=load_default_survey()))
choices = ["very_satisfied", "satisfied", "dissatisfied", "very_dissatisfied"]
for index in range(100_000):
    choice = choices[index % 4]
    session.tap_main(choice, "fr")
    if index % 3 == 0:
        session.finish()  # a visitor who stops after the main question: sealed at once
    # The call returned: the screen moves on, so the answer must be on disk from now on.
    print(session.response_id, choice, flush=True)
"""


def test_every_answer_whose_screen_moved_on_survives_sigkill_mid_burst(path):
    KioskStore(path).close()  # schema first, so the burst starts at once
    child = subprocess.Popen(
        [sys.executable, "-c", BURST_CHILD, str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    moved_on: dict[str, str] = {}
    try:
        while len(moved_on) < 60:
            line = child.stdout.readline()
            if not line:
                break
            response_id, choice = line.split()
            moved_on[response_id] = choice
        child.send_signal(signal.SIGKILL)  # mid-burst: the child is writing the next ones
        rest, errors = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL, errors
    assert len(moved_on) == 60, errors
    for line in rest.splitlines():  # printed before the kill landed: those moved on too
        parts = line.split()
        if len(parts) == 2:
            moved_on[parts[0]] = parts[1]
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = dict(conn.execute("SELECT id, answers FROM responses"))
    finally:
        conn.close()
    missing = set(moved_on) - set(stored)
    assert not missing
    for response_id, choice in moved_on.items():
        assert json.loads(stored[response_id])["overall"] == choice
    with KioskStore(path) as store:
        store.seal_abandoned_responses()  # what the next start-up does
        queued = {row[0] for row in store.db.execute("SELECT id FROM outbox")}
        assert set(moved_on) <= queued  # every one of them will be uploaded
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_abandoned_responses_become_partial_after_a_restart(path, clock):
    with KioskStore(path, clock) as store:
        tapped = answered(store)
        untouched = store.start_response("qualivilles-accueil", 1, "fr")
        finished = answered(store)
        store.seal_response(finished, ResponseStatus.COMPLETE)
    with KioskStore(path, clock) as store:
        assert store.seal_abandoned_responses() == 1
        assert store.response(tapped)["status"] == "partial"
        assert store.response(untouched) is None  # nothing was tapped: nothing to keep
        records = {str(r.id): r for r in store.pending_records()}
        assert set(records) == {tapped, finished}
        assert records[tapped].payload["status"] == "partial"
        assert records[finished].payload["status"] == "complete"
        assert store.seal_abandoned_responses() == 0


def test_migrations_are_recorded_and_applied_once(path, clock):
    names = ["0001_responses_outbox_settings", "0002_visit_events"]
    with KioskStore(path, clock) as store:
        assert store.applied_migrations() == names
        answered(store)
    with KioskStore(path, clock) as store:
        assert store.applied_migrations() == names
        rows = store.db.execute("SELECT migration_set, name FROM _sqlite_migrations").fetchall()
        assert rows == [("kiosk", name) for name in names]
        assert store.db["responses"].count == 1


def test_a_full_disk_is_a_clear_error_that_changes_nothing(store):
    kept = answered(store)
    store.seal_response(kept, ResponseStatus.COMPLETE)
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    # The file may not grow any more: the closest we get to a full disk without root.
    store.db.execute(f"PRAGMA max_page_count = {pages}")
    written = 1
    for _ in range(1000):
        try:
            store.add_record(RecordKind.VISIT_EVENT, visit_event())
        except StoreFull:
            break
        written += 1
    else:
        pytest.fail("the file never filled up")
    with pytest.raises(StoreFull):
        store.add_record(RecordKind.VISIT_EVENT, visit_event())
    assert store.backlog() == written  # the failed call left nothing half-written
    assert store.pending_records()[0].id == UUID(kept)
    store.db.execute(f"PRAGMA max_page_count = {pages * 100}")  # space is back
    store.add_record(RecordKind.VISIT_EVENT, visit_event())
    assert store.backlog() == written + 1
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# Sealing -------------------------------------------------------------------------------------


def test_sealing_queues_one_valid_answer_record(store, clock):
    response_id = answered(store, why_unhappy=("waiting", "information"))
    clock.advance(40)
    assert store.seal_response(response_id, ResponseStatus.COMPLETE) is True
    [record] = store.pending_records()
    assert str(record.id) == response_id
    assert record.kind == RecordKind.ANSWER
    assert record.payload["answers"] == {
        "overall": "satisfied",
        "why_unhappy": ["waiting", "information"],
    }
    assert record.payload_hash == payload_hash(record.payload)
    # Dated at the first tap, not at the seal 40 s later.
    assert record.device_time == datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def test_sealing_twice_is_a_no_op(store):
    response_id = answered(store)
    assert store.seal_response(response_id, ResponseStatus.COMPLETE) is True
    assert store.seal_response(response_id, ResponseStatus.PARTIAL) is False
    assert store.backlog() == 1
    assert store.response(response_id)["status"] == "complete"


def test_a_sealed_response_cannot_change(store):
    response_id = answered(store)
    store.seal_response(response_id, ResponseStatus.COMPLETE)
    with pytest.raises(ResponseNotOpen):
        store.record_answer(response_id, "welcome", "satisfied")
    with pytest.raises(ResponseNotOpen):
        store.set_comment(response_id, "trop tard")
    with pytest.raises(ResponseNotOpen):
        store.seal_response(new_record_id(), ResponseStatus.COMPLETE)


def test_bad_input_is_refused_and_changes_nothing(store):
    response_id = answered(store)
    with pytest.raises(ValidationError):
        store.record_answer(response_id, "Not A Slug", "satisfied")
    with pytest.raises(ValidationError):
        store.record_answer(response_id, "welcome", {"nested": "dict"})
    with pytest.raises(ValueError, match="2000"):
        store.set_comment(response_id, "x" * 2001)
    with pytest.raises(ValidationError):
        store.start_response("qualivilles-accueil", 0, "fr")
    assert store.response(response_id)["answers"] == {"overall": "satisfied"}
    assert store.db["responses"].count == 1


# The outbox ----------------------------------------------------------------------------------


def test_pending_records_come_in_capture_order_within_bounds(store, clock):
    ids = []
    for _ in range(30):
        ids.append(store.add_record(RecordKind.VISIT_EVENT, visit_event()))
        clock.advance(1)
    assert [str(r.id) for r in store.pending_records(max_count=10)] == ids[:10]
    assert len(store.pending_records(max_count=10_000)) == 30  # clamped to the protocol's max
    one_size = 256 + len(json.dumps(visit_event().model_dump(mode="json")))
    assert len(store.pending_records(max_bytes=3 * one_size + 10)) == 3
    # A record larger than the byte budget still goes, alone, rather than blocking the queue.
    assert [str(r.id) for r in store.pending_records(max_bytes=1)] == ids[:1]


def test_capture_order_survives_the_wall_clock_stepping_back(store, clock):
    first = store.add_record(RecordKind.VISIT_EVENT, visit_event())
    clock.set_wall_time(datetime(2024, 1, 1, tzinfo=UTC))
    second = store.add_record(RecordKind.VISIT_EVENT, visit_event())
    assert [str(r.id) for r in store.pending_records()] == [first, second]


def test_an_empty_outbox_has_no_batch_and_no_age(store):
    assert store.pending_records() == []
    assert store.backlog() == 0
    assert store.oldest_pending_age_seconds() is None


def test_oldest_pending_age_follows_the_clock(store, clock):
    store.add_record(RecordKind.VISIT_EVENT, visit_event())
    clock.advance(90)
    store.add_record(RecordKind.VISIT_EVENT, visit_event())
    assert store.oldest_pending_age_seconds() == 90
    clock.set_wall_time(datetime(2020, 1, 1, tzinfo=UTC))
    assert store.oldest_pending_age_seconds() == 0


def test_a_record_needs_the_payload_model_of_its_kind(store):
    with pytest.raises(TypeError):
        store.add_record(RecordKind.ANSWER, visit_event())
    assert store.backlog() == 0


def test_acks_forget_stored_records_and_set_aside_refused_ones(store):
    ids = [store.add_record(RecordKind.VISIT_EVENT, visit_event()) for _ in range(5)]
    summary = store.apply_acks(
        [
            Ack(id=ids[0], status=AckStatus.STORED),
            Ack(id=ids[1], status=AckStatus.DUPLICATE),
            Ack(id=ids[2], status=AckStatus.CONFLICT, code="hash_mismatch"),
            Ack(id=ids[3], status=AckStatus.REJECTED, code="invalid_payload"),
            Ack(id=new_record_id(), status=AckStatus.STORED),
        ]
    )
    assert (summary.forgotten, summary.duplicates) == (2, 1)
    assert (summary.conflicts, summary.rejected, summary.unknown) == (1, 1, 1)
    # The refused records no longer block the queue…
    assert [str(r.id) for r in store.pending_records()] == [ids[4]]
    assert store.backlog() == 1
    # …but stay visible with their code.
    held = {row["id"]: (row["state"], row["last_code"]) for row in store.held_records()}
    assert held == {
        ids[2]: ("conflict", "hash_mismatch"),
        ids[3]: ("rejected", "invalid_payload"),
    }


def test_upload_attempts_are_counted(store):
    record_id = store.add_record(RecordKind.VISIT_EVENT, visit_event())
    store.mark_attempted([record_id])
    store.mark_attempted([record_id])
    assert store.db["outbox"].get(1)["attempts"] == 2


def test_uploaded_responses_are_purged_after_a_while(store, clock):
    sent = answered(store)
    store.seal_response(sent, ResponseStatus.COMPLETE)
    unsent = answered(store)
    store.seal_response(unsent, ResponseStatus.COMPLETE)
    store.apply_acks([Ack(id=sent, status=AckStatus.STORED)])
    assert store.purge_uploaded_responses(timedelta(days=1)) == 0
    clock.advance(2 * 86_400)
    assert store.purge_uploaded_responses(timedelta(days=1)) == 1
    assert store.response(sent) is None
    assert store.response(unsent) is not None


# Suspect presses -----------------------------------------------------------------------------


@given(
    previous=st.one_of(st.none(), st.integers(min_value=0, max_value=10**12)),
    gap=st.integers(min_value=-(10**9), max_value=10**9),
    interval=st.floats(min_value=0, max_value=3600, allow_nan=False),
    wider=st.floats(min_value=0, max_value=3600, allow_nan=False),
)
def test_a_press_is_suspect_only_soon_after_the_previous_one(previous, gap, interval, wider):
    now = (previous or 0) + gap
    suspect = is_suspect_press(previous, now, interval)
    if previous is None or gap < 0:
        assert not suspect  # first press, or the monotonic clock restarted
    else:
        assert suspect == (gap < interval * 1000)
    if suspect:  # a longer interval flags at least as much
        assert is_suspect_press(previous, now, interval + wider)


def test_the_store_tells_whether_a_press_now_is_suspect(store, clock):
    assert not store.press_is_suspect(3)
    answered(store)
    clock.advance(2)
    assert store.press_is_suspect(3)
    clock.advance(1)
    assert not store.press_is_suspect(3)
    suspect_id = store.start_response("qualivilles-accueil", 1, "fr", suspect=True)
    store.record_answer(suspect_id, "overall", "very_satisfied")
    store.seal_response(suspect_id, ResponseStatus.PARTIAL)
    assert store.pending_records()[0].payload["suspect"] is True


# Settings ------------------------------------------------------------------------------------


def test_settings_round_trip_across_reopen(path, clock):
    credentials = Credentials(
        "http://127.0.0.1:8000", "dev-1", "s3cret", "centre-administratif", "iris"
    )
    status = SyncStatus(
        last_sync_at=datetime(2025, 3, 3, 9, 5, tzinfo=UTC),
        last_error="server unreachable",
        last_error_code="server_unreachable",
        clock_offset_ms=-1500,
        next_attempt_at=datetime(2025, 3, 3, 9, 6, tzinfo=UTC),
        consecutive_failures=2,
    )
    with KioskStore(path, clock) as store:
        assert store.credentials() is None
        assert store.cached_config() is None
        assert store.sync_status() == SyncStatus()
        store.save_credentials(credentials)
        store.save_config(CachedConfig({"config_version": 3, "site": {"slug": "x"}}, '"abc"'))
        store.save_sync_status(status)
    with KioskStore(path, clock) as store:
        assert store.credentials() == credentials
        assert store.cached_config() == CachedConfig(
            {"config_version": 3, "site": {"slug": "x"}}, '"abc"'
        )
        assert store.sync_status() == status
        store.clear_credentials()
        assert store.credentials() is None
    assert "s3cret" not in repr(credentials)


# Two threads, two stores, one file -----------------------------------------------------------


def test_a_capturing_thread_and_a_syncing_thread_share_the_file(path):
    KioskStore(path).close()  # create the schema before the race
    total = 150
    sealed: list[str] = []
    forgotten: list[str] = []
    errors: list[BaseException] = []
    capture_done = threading.Event()

    def capture():
        try:
            with KioskStore(path) as store:
                for _ in range(total):
                    response_id = answered(store)
                    store.seal_response(response_id, ResponseStatus.COMPLETE)
                    sealed.append(response_id)
        except BaseException as error:
            errors.append(error)
        finally:
            capture_done.set()

    def drain():
        try:
            with KioskStore(path) as store:
                while True:
                    finished = capture_done.is_set()  # read before the batch: no lost tail
                    batch = store.pending_records(max_count=7)
                    if not batch and finished:
                        return
                    store.mark_attempted(str(r.id) for r in batch)
                    store.apply_acks(Ack(id=r.id, status=AckStatus.STORED) for r in batch)
                    forgotten.extend(str(r.id) for r in batch)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=capture), threading.Thread(target=drain)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert sorted(forgotten) == sorted(sealed)
    assert len(forgotten) == total
    with KioskStore(path) as store:
        assert store.backlog() == 0
        assert store.db["responses"].count == total


def test_a_second_connection_waits_for_the_write_lock_instead_of_failing(path):
    KioskStore(path).close()
    locked = threading.Event()

    def hold_the_write_lock():
        blocker = sqlite3.connect(path)
        blocker.execute("BEGIN IMMEDIATE")
        locked.set()
        threading.Event().wait(0.3)  # long enough for the other writer to be refused if it could
        blocker.commit()
        blocker.close()

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    assert locked.wait(timeout=10)
    with KioskStore(path) as store:
        store.add_record(RecordKind.VISIT_EVENT, visit_event())  # waits, then succeeds
        assert store.backlog() == 1
    holder.join(timeout=10)


def test_kiosk_core_never_imports_kivy():
    script = (
        "import sys\n"
        "import kiosk.core.store, kiosk.core.sync, kiosk.core.sync_client\n"
        "assert not any(m == 'kivy' or m.startswith('kivy.') for m in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, env=env, timeout=60)
