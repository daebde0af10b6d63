"""Several server processes on one PostgreSQL: uploads take no lock shared by all, and still
every record is stored once, counted once in the figures, never skipped.

Each "process" here is a `Storage` of its own (its own engine and connections, as a server
process has); real processes are killed with SIGKILL in the middle of a transaction. SQLite has
one writer at a time: the same rules hold there trivially (tests/test_projection.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections import Counter
from contextlib import AbstractContextManager, ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualivilles.protocol import AckStatus, RecordIn, RecordKind
from sync_server.storage import (
    Connection,
    Source,
    Storage,
    db,
    ingest,
    projection,
    uploads,
)
from tests.fixtures.server import SERVICE, SITE, answer_payload, make_record
from tests.tools.projected import all_projected

ROOT = Path(__file__).resolve().parents[1]
MARCH = datetime(2025, 3, 12, 9, 0, tzinfo=UTC)
KIOSK = Source(site=SITE, service=SERVICE, channel="kiosk")


def tablet(device_id: str) -> Source:
    return Source(site=SITE, service=SERVICE, channel="tablet", device_id=device_id)


def answers(count: int, start: int = 0) -> list[RecordIn]:
    levels = ["very_satisfied", "satisfied", "dissatisfied", "very_dissatisfied"]
    return [
        make_record(answer_payload(levels[n % 4]), at=MARCH + timedelta(minutes=start + n))
        for n in range(count)
    ]


def scalar(storage: Storage, sql: str) -> int:
    with storage.read() as connection:
        return int(connection.exec_driver_sql(sql).scalar() or 0)


def assert_each_record_counted_once(storage: Storage, expected_ids: set[str]) -> None:
    """The log holds each id once, the figures each logged answer once, the daily rollups the
    same total as the answers, and nothing is pending."""
    all_projected(storage)
    with storage.read() as connection:
        logged = [row[0] for row in connection.exec_driver_sql("SELECT id FROM records")]
        counted = [row[0] for row in connection.exec_driver_sql("SELECT id FROM answers")]
        rolled = connection.exec_driver_sql("SELECT sum(answers) FROM answer_days").scalar()
        assert not projection.pending(connection)
    assert Counter(logged) == Counter(expected_ids)
    assert Counter(counted) == Counter(expected_ids)
    assert int(rolled or 0) == len(expected_ids)


def test_the_same_batches_through_two_processes_at_once_are_stored_once(pg_storage, second_process):
    batches = [answers(50, start=50 * n) for n in range(8)]
    statuses: dict[int, list[list[str]]] = {0: [], 1: []}
    barrier = threading.Barrier(2)

    def deliver(which: int, storage: Storage) -> None:
        for batch in batches:
            barrier.wait()  # both processes send the same batch at the same moment
            acks = uploads.store_batch(storage, batch, KIOSK)
            statuses[which].append([str(ack.status) for ack in acks])

    threads = [
        threading.Thread(target=deliver, args=(0, pg_storage)),
        threading.Thread(target=deliver, args=(1, second_process)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for first, second in zip(statuses[0], statuses[1], strict=True):
        # Of each record's two deliveries, exactly one stored it; the other saw it stored.
        assert sorted(zip(first, second, strict=True)) == sorted(
            [("stored", "duplicate")] * sum(s == "stored" for s in first)
            + [("duplicate", "stored")] * sum(s == "stored" for s in second)
        )
        assert Counter(first + second) == Counter({"stored": 50, "duplicate": 50})
    ids = {str(record.id) for batch in batches for record in batch}
    assert_each_record_counted_once(pg_storage, ids)


def test_interleaved_batches_sharing_records_neither_deadlock_nor_double(
    pg_storage, second_process
):
    records = answers(150)
    # One process sends the first hundred in order, the other the last hundred backwards: the
    # fifty they share arrive in opposite orders, as a resend after a timeout might.
    first, second = records[:100], list(reversed(records[50:]))
    outcomes: dict[str, list] = {}
    barrier = threading.Barrier(2)

    def deliver(name: str, storage: Storage, batch: list[RecordIn]) -> None:
        barrier.wait()
        outcomes[name] = uploads.store_batch(storage, batch, KIOSK)

    threads = [
        threading.Thread(target=deliver, args=("a", pg_storage, first)),
        threading.Thread(target=deliver, args=("b", second_process, second)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(outcomes) == {"a", "b"}  # neither failed (a deadlock raises in one of them)
    statuses = Counter(str(ack.status) for acks in outcomes.values() for ack in acks)
    assert statuses == Counter({"stored": 150, "duplicate": 50})
    assert_each_record_counted_once(pg_storage, {str(r.id) for r in records})


def test_two_tablets_claiming_one_visit_at_once_one_owns_it(pg_storage, second_process):
    visit_id = str(uuid.uuid4())
    payload = {"visit_id": visit_id, "event": "arrived"}
    events = {
        "tablet-a": make_record(payload, RecordKind.VISIT_EVENT, at=MARCH),
        "tablet-b": make_record(payload, RecordKind.VISIT_EVENT, at=MARCH),
    }
    outcomes: dict[str, str] = {}
    barrier = threading.Barrier(2)

    def deliver(device: str, storage: Storage) -> None:
        barrier.wait()
        [ack] = uploads.store_batch(storage, [events[device]], tablet(device))
        outcomes[device] = str(ack.code or ack.status)

    threads = [
        threading.Thread(target=deliver, args=("tablet-a", pg_storage)),
        threading.Thread(target=deliver, args=("tablet-b", second_process)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["stored", "visit_not_yours"]
    [owner] = [device for device, outcome in outcomes.items() if outcome == "stored"]
    with pg_storage.read() as connection:
        owners = connection.exec_driver_sql("SELECT visit_id, device_id FROM visit_owners").all()
    assert [tuple(row) for row in owners] == [(visit_id, owner)]


def test_an_upload_does_not_wait_for_another_under_way(pg_storage, second_process):
    with ExitStack() as slow:
        # One process is in the middle of storing a batch (its transaction open)...
        assert open_batch(slow, pg_storage, answers(5)) == ["stored"] * 5
        # ...another stores its own meanwhile, and validates, numbers and commits it without
        # waiting (a lock shared by every upload would hold it for the ten seconds, then fail).
        acks = uploads.store_batch(second_process, answers(5, start=20), KIOSK, project=False)
        assert [ack.status for ack in acks] == [AckStatus.STORED] * 5
        assert scalar(second_process, "SELECT count(*) FROM records") == 5
    assert scalar(second_process, "SELECT count(*) FROM records") == 10


def open_batch(stack: ExitStack, storage: Storage, records: list[RecordIn]) -> list[str]:
    """Append `records` in a transaction left open on `stack` (committed when it closes)."""
    connection = stack.enter_context(storage.append())
    acks = ingest.ingest(connection, records, KIOSK, datetime.now(UTC))
    return [str(ack.status) for ack in acks]


def test_a_record_committed_after_later_ones_were_projected_is_not_skipped(
    pg_storage, second_process
):
    early, late = answers(3), answers(4, start=10)
    with ExitStack() as slow:
        # The slow upload takes its numbers first, then commits last.
        assert open_batch(slow, pg_storage, early) == ["stored"] * 3
        acks = uploads.store_batch(second_process, late, KIOSK, project=False)
        assert [ack.status for ack in acks] == [AckStatus.STORED] * 4
        assert projection.catch_up(second_process) == 4
        assert scalar(pg_storage, "SELECT count(*) FROM answers") == 4
        reached = scalar(pg_storage, "SELECT position FROM projections")
    both = early + late
    seqs = dict(zip([str(r.id) for r in both], seqs_of(pg_storage, both), strict=True))
    assert max(seqs[str(r.id)] for r in early) < min(seqs[str(r.id)] for r in late) <= reached
    # Committed now, below the position the projection reached: still projected, once.
    assert projection.catch_up(pg_storage) == 3
    assert_each_record_counted_once(pg_storage, {str(r.id) for r in early + late})


def seqs_of(storage: Storage, records: list[RecordIn]) -> list[int]:
    with storage.read() as connection:
        found = dict(connection.exec_driver_sql("SELECT id, seq FROM records").all())
    return [int(found[str(record.id)]) for record in records]


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=6), min_size=2, max_size=5),
    data=st.data(),
)
def test_writers_committing_in_any_order_are_each_counted_once(
    pg_storage, second_process, sizes, data
):
    before = {row for row in ids_logged(pg_storage)}
    batches = [answers(size, start=100 * n) for n, size in enumerate(sizes)]
    # Each writer opens its transaction in turn (numbers taken in that order), then they commit
    # in an order Hypothesis picks, with the projection running between commits.
    commit_order = data.draw(st.permutations(range(len(batches))))
    project_after = data.draw(st.lists(st.booleans(), min_size=len(batches), max_size=len(batches)))
    stacks = [ExitStack() for _ in batches]
    processes = [pg_storage, second_process]
    for n, batch in enumerate(batches):
        assert open_batch(stacks[n], processes[n % 2], batch) == ["stored"] * len(batch)
    for position, n in enumerate(commit_order):
        stacks[n].close()
        if project_after[position]:
            projection.catch_up(processes[position % 2])
    new_ids = {str(record.id) for batch in batches for record in batch}
    assert_each_record_counted_once(pg_storage, before | new_ids)


def ids_logged(storage: Storage) -> list[str]:
    with storage.read() as connection:
        return [row[0] for row in connection.exec_driver_sql("SELECT id FROM records")]


def test_one_process_projects_at_a_time_and_the_other_returns_at_once(pg_storage, second_process):
    uploads.store_batch(pg_storage, answers(5), KIOSK, project=False)
    with ExitStack() as leading:
        connection = leading.enter_context(projection_lead(pg_storage))
        assert connection is not None
        # While the first projects, the second neither waits nor projects anything.
        assert projection.catch_up(second_process) == 0
        assert projection.project(connection, pg_storage.zone) == 5
    assert projection.catch_up(second_process) == 0  # the first did it all
    assert scalar(pg_storage, "SELECT count(*) FROM answers") == 5


def projection_lead(storage: Storage) -> AbstractContextManager[Connection | None]:
    return db.lead(storage.engine, projection.PROJECTOR)


# -- real processes killed in the middle of a transaction ----------------------------------------

HOLDER = ROOT / "tests" / "tools" / "held_transaction.py"


def start_holder(storage: Storage, what: str, records: list[RecordIn]) -> subprocess.Popen:
    """A process that opens a transaction on the database, does `what` in it, says "ready" and
    waits (never committing) until it is killed."""
    url = storage.engine.url.render_as_string(hide_password=False)
    body = json.dumps([record.model_dump(mode="json") for record in records])
    holder = subprocess.Popen(
        [sys.executable, str(HOLDER), url, what],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert holder.stdin is not None
    assert holder.stdout is not None
    holder.stdin.write(body + "\n")
    holder.stdin.flush()
    assert holder.stdout.readline().strip() == "ready"
    return holder


def kill(holder: subprocess.Popen) -> None:
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    assert holder.returncode == -signal.SIGKILL


def test_a_process_killed_while_appending_stores_nothing_and_the_batch_is_sent_again(
    pg_storage,
):
    batch = answers(20)
    holder = start_holder(pg_storage, "append", batch)
    try:
        assert scalar(pg_storage, "SELECT count(*) FROM records") == 0  # not committed
    finally:
        kill(holder)
    # The device got no reply and sends the batch again, to another process: stored, once.
    acks = uploads.store_batch(pg_storage, batch, KIOSK)
    assert [ack.status for ack in acks] == [AckStatus.STORED] * 20
    assert_each_record_counted_once(pg_storage, {str(r.id) for r in batch})


def test_a_process_killed_while_projecting_leaves_every_record_pending(pg_storage):
    batch = answers(12)
    uploads.store_batch(pg_storage, batch, KIOSK, project=False)
    holder = start_holder(pg_storage, "project", [])
    try:
        # It leads: this process leaves the projection to it and counts nothing yet.
        assert projection.catch_up(pg_storage) == 0
        assert scalar(pg_storage, "SELECT count(*) FROM answers") == 0
    finally:
        kill(holder)
    assert all_projected(pg_storage) == 12
    assert_each_record_counted_once(pg_storage, {str(r.id) for r in batch})


def test_a_phone_answer_returns_once_counted_even_while_another_process_projects(pg_storage):
    # The thanks page offers to leave contact details on the answer's register entry, which
    # exists once the answer is projected: the request waits for the process projecting.
    uploads.store_batch(pg_storage, answers(3), KIOSK, project=False)
    holder = start_holder(pg_storage, "project", [])
    record = make_record(answer_payload("dissatisfied", comment="Personne à l'accueil"), at=MARCH)
    phone = Source(site=SITE, service=SERVICE, channel="phone")
    outcome: list[bool] = []

    def answer() -> None:
        uploads.store_phone_answer(pg_storage, record, phone, datetime.now(UTC))
        with pg_storage.read() as connection:
            outcome.append(projection.is_pending(connection, str(record.id)))

    visitor = threading.Thread(target=answer)
    try:
        visitor.start()
    finally:
        kill(holder)
    visitor.join()
    assert outcome == [False]
    with pg_storage.read() as connection:
        [(text,)] = connection.exec_driver_sql("SELECT text FROM comments").all()
    assert text == "Personne à l'accueil"


def test_a_read_is_one_snapshot_while_other_processes_commit(pg_storage, second_process):
    uploads.store_batch(pg_storage, answers(2), KIOSK)
    with pg_storage.read() as connection:
        before = connection.exec_driver_sql("SELECT count(*) FROM answers").scalar()
        # Another process stores and projects records in the middle of this page's reads...
        uploads.store_batch(second_process, answers(3, start=10), KIOSK)
        assert scalar(second_process, "SELECT count(*) FROM answers") == 5
        # ...which sees none of them: its figures agree with each other.
        again = connection.exec_driver_sql("SELECT count(*) FROM answers").scalar()
        days = connection.exec_driver_sql("SELECT sum(answers) FROM answer_days").scalar()
    assert (before, again, days) == (2, 2, 2)
