"""The network and device faults a kiosk meets, each on the real client, store and worker and
the real server on loopback, with our fault-injecting proxy (`tests/fixtures/fault_proxy.py`)
in between."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from kiosk.core.clock import ManualClock
from kiosk.core.device_state import Credentials
from kiosk.core.store import KioskStore, StoreFull
from kiosk.core.sync import SyncReport, SyncWorker, build_heartbeat, sync_once
from kiosk.core.sync_client import SyncClient
from kiosk.core.visitor import DeskConfig, VisitorSession
from qualivilles.bundled import load_default_survey
from qualivilles.protocol import AnswerPayload, RecordKind, ResponseStatus
from sync_server.storage import schema
from tests.fixtures.fault_proxy import (
    Delay,
    DropAfterCommit,
    Portal,
    Status,
    Truncated,
)
from tests.fixtures.server import enrolled_since
from tests.tools.projected import all_projected
from tests.tools.server_reads import record_ids, stored_rows

WAIT = 30  # seconds: a generous bound on every wait, never a sleep
FAST = (2.0, 2.0)  # client timeouts (connect, read) for these tests


def capture(store: KioskStore, count: int) -> list[str]:
    ids = []
    for index in range(count):
        response_id = store.start_response("qualivilles-accueil", 1, "fr")
        store.record_answer(response_id, "overall", ["satisfied", "very_satisfied"][index % 2])
        store.seal_response(response_id, ResponseStatus.COMPLETE)
        ids.append(response_id)
    return ids


def server_ids(live_server) -> set[str]:
    return set(record_ids(live_server.storage))


def pending_ids(store: KioskStore) -> list[str]:
    return [str(record.id) for record in store.pending_records(max_count=500)]


@pytest.fixture
def credentials(live_server, fault_proxy) -> Credentials:
    """A device enrolled through the proxy: every later request meets its faults."""
    return SyncClient.enrol(fault_proxy.url, live_server.enrol(), "test")


@pytest.fixture
def store(tmp_path, credentials) -> Iterator[KioskStore]:
    with KioskStore(tmp_path / "kiosk.db") as store:
        store.save_credentials(credentials)
        yield store


@pytest.fixture
def client(credentials) -> Iterator[SyncClient]:
    with SyncClient.from_credentials(credentials, timeout=FAST) as client:
        yield client


class Worker:
    """A `SyncWorker` on the store's file with its reports in a queue."""

    def __init__(self, store: KioskStore, **options) -> None:
        self.reports: queue.Queue[SyncReport] = queue.Queue()
        options.setdefault("interval", 3600)
        options.setdefault("rand", lambda: 1.0)
        path, clock = store.path, store.clock
        self.thread = SyncWorker(
            lambda: KioskStore(path, clock),
            lambda s: SyncClient.from_credentials(s.credentials(), timeout=FAST),
            on_report=self.reports.put,
            **options,
        )
        self.thread.start()

    def next_report(self) -> SyncReport:
        return self.reports.get(timeout=WAIT)

    def stop(self) -> None:
        self.thread.stop(timeout=WAIT)
        assert not self.thread.is_alive()


@pytest.fixture
def worker(store) -> Iterator[type[Worker]]:
    started: list[Worker] = []

    def start(**options) -> Worker:
        started.append(Worker(store, **options))
        return started[-1]

    yield start  # type: ignore[misc]
    for item in started:
        item.stop()


# The network -----------------------------------------------------------------------------------


def test_server_down_for_the_whole_session(live_server, fault_proxy, store, worker, client):
    ids = capture(store, 5)
    fault_proxy.down()
    w = worker(backoff_base=0.05, backoff_cap=0.1, probe_interval=0.05)
    reports = [w.next_report() for _ in range(3)]
    w.stop()
    assert [r.error_code for r in reports] == ["server_unreachable"] * 3
    assert all(r.backlog == 5 and r.sent == 0 for r in reports)
    assert pending_ids(store) == ids  # nothing lost, order kept
    status = store.sync_status()
    assert status.consecutive_failures >= 3
    assert status.last_error_code == "server_unreachable"
    assert status.next_attempt_at is not None
    with live_server.storage.read() as connection:
        assert schema.row_count(connection, "records") == 0
    fault_proxy.up()  # the control: the same device drains once the server is back
    assert sync_once(store, client).forgotten == 5
    assert set(ids) <= server_ids(live_server)


def test_the_worker_retries_as_soon_as_the_network_returns(live_server, fault_proxy, store, worker):
    ids = capture(store, 3)
    fault_proxy.down()
    w = worker(backoff_base=600, backoff_cap=600, probe_interval=0.1, probe_timeout=0.5)
    first = w.next_report()
    assert first.error_code == "server_unreachable"
    assert first.next_attempt_at > datetime.now(UTC) + timedelta(minutes=9)
    fault_proxy.up()
    # No wake(): the reachability probe notices the server and the worker syncs at once.
    second = w.next_report()
    assert second.ok, second.error
    assert (second.forgotten, second.backlog) == (3, 0)
    assert set(ids) <= server_ids(live_server)


def test_a_server_slower_than_the_client_timeout(live_server, fault_proxy, store, credentials):
    ids = capture(store, 4)
    fault_proxy.next(Delay(1.5))
    with SyncClient.from_credentials(credentials, timeout=(2, 0.3)) as impatient:
        report = sync_once(store, impatient)
    assert (report.error_kind, report.error_code) == ("server_unreachable", "server_timeout")
    assert pending_ids(store) == ids
    # The proxy delivered the batch after the client gave up: the server did store it…
    assert fault_proxy.wait_handled().forwarded
    assert set(ids) <= server_ids(live_server)
    # …so the retry is acknowledged as duplicate, and nothing is doubled.
    with SyncClient.from_credentials(credentials, timeout=FAST) as client:
        again = sync_once(store, client)
    assert (again.forgotten, again.duplicates, again.backlog) == (4, 4, 0)
    with live_server.storage.read() as connection:
        assert schema.row_count(connection, "records") == 4


def test_a_500_keeps_everything_and_backs_off(live_server, fault_proxy, store, worker):
    ids = capture(store, 3)
    fault_proxy.next(Status(500))
    w = worker(backoff_base=60, backoff_cap=60)
    report = w.next_report()
    assert (report.error_kind, report.error_code) == ("server_error", "server_error")
    assert pending_ids(store) == ids
    assert report.next_attempt_at > datetime.now(UTC) + timedelta(seconds=50)
    w.thread.wake()  # "sync now" on the staff screen
    assert w.next_report().forgotten == 3
    with live_server.storage.read() as connection:
        assert schema.row_count(connection, "records") == 3


def test_a_503_retry_after_is_respected_and_persisted(live_server, fault_proxy, store, worker):
    ids = capture(store, 3)
    fault_proxy.next(Status(503, retry_after=120))
    # Without Retry-After this backoff would retry at once (rand 0).
    w = worker(backoff_base=1, backoff_cap=300, rand=lambda: 0.0)
    report = w.next_report()
    assert (report.error_code, report.retry_after) == ("server_error", 120.0)
    assert report.next_attempt_at > datetime.now(UTC) + timedelta(seconds=110)
    assert store.sync_status().next_attempt_at == report.next_attempt_at
    assert pending_ids(store) == ids
    w.stop()
    # A restarted kiosk honours the persisted time instead of retrying at start-up.
    again = worker(backoff_base=1, backoff_cap=300, rand=lambda: 0.0)
    with pytest.raises(queue.Empty):
        again.reports.get(timeout=0.5)
    assert [item.path for item in fault_proxy.log].count("/api/v1/sync") == 1
    again.thread.wake()
    assert again.next_report().forgotten == 3


def test_a_connection_dropped_after_the_commit(live_server, fault_proxy, store, client):
    ids = capture(store, 6)
    fault_proxy.next(DropAfterCommit())
    report = sync_once(store, client)
    assert report.error_code == "connection_lost"
    assert fault_proxy.wait_handled().forwarded
    assert pending_ids(store) == ids  # no acknowledgement read: nothing forgotten
    with live_server.storage.read() as connection:
        assert schema.row_count(connection, "records") == 6  # but the server has committed
    again = sync_once(store, client)
    assert again.ok, again.error
    assert (again.forgotten, again.duplicates, again.backlog) == (6, 6, 0)
    with live_server.storage.read() as connection:
        assert schema.row_count(connection, "records") == 6
        assert schema.row_count(connection, "answers") == 6
    assert server_ids(live_server) == set(ids)


def test_a_captive_portal_200_is_not_an_acknowledgement(live_server, fault_proxy, store, client):
    ids = capture(store, 3)
    fault_proxy.next(Portal())
    report = sync_once(store, client)
    assert report.error_kind == "invalid_acknowledgement"
    assert pending_ids(store) == ids
    with live_server.storage.read() as connection:
        assert schema.row_count(connection, "records") == 0
    assert sync_once(store, client).forgotten == 3
    assert server_ids(live_server) == set(ids)


def test_a_truncated_answer_is_not_an_acknowledgement(live_server, fault_proxy, store, client):
    ids = capture(store, 5)
    fault_proxy.next(Truncated())
    report = sync_once(store, client)
    assert report.error_kind == "invalid_acknowledgement"
    assert "truncated" in report.error
    assert pending_ids(store) == ids
    again = sync_once(store, client)
    assert (again.forgotten, again.duplicates) == (5, 5)
    with live_server.storage.read() as connection:
        assert schema.row_count(connection, "records") == 5


def test_the_same_batch_from_two_threads_at_once(live_server, fault_proxy, store, credentials):
    ids = capture(store, 40)
    batch = store.pending_records(max_count=500)
    start = threading.Barrier(2, timeout=WAIT)
    results: dict[int, list] = {}
    errors: list[BaseException] = []

    def deliver(slot: int) -> None:
        try:
            with SyncClient.from_credentials(credentials, timeout=(5, 20)) as client:
                start.wait()
                results[slot] = client.upload(batch)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=deliver, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT)
    assert errors == []
    statuses: dict[str, list[str]] = {}
    for acks in results.values():
        for ack in acks:
            statuses.setdefault(str(ack.id), []).append(str(ack.status))
    assert {tuple(sorted(s)) for s in statuses.values()} == {("duplicate", "stored")}
    assert set(statuses) == set(ids)
    all_projected(live_server.storage)  # the projection runs after the replies
    with live_server.storage.read() as connection:
        assert schema.row_count(connection, "records") == 40
        assert schema.row_count(connection, "answers") == 40
    for acks in results.values():
        store.apply_acks(acks)
    assert store.backlog() == 0


# The device ------------------------------------------------------------------------------------


def test_a_device_clock_one_day_wrong(live_server, tmp_path, credentials):
    real_now = datetime.now(UTC)
    late = ManualClock(real_now - timedelta(days=1))
    with (
        KioskStore(tmp_path / "late.db", late) as store,
        SyncClient.from_credentials(credentials, clock=late, timeout=FAST) as client,
    ):
        ids = capture(store, 3)
        report = sync_once(store, client)
        assert report.ok, report.error
        assert report.clock_offset_ms == pytest.approx(86_400_000, abs=60_000)
        # What the staff screen shows.
        assert store.sync_status().clock_offset_ms == pytest.approx(86_400_000, abs=60_000)
    storage = live_server.storage
    sent = dict(stored_rows(storage, "records", "id", "device_time"))
    answers = stored_rows(storage, "answers", "id", "captured_at")
    counted = {record_id: at for record_id, at in answers if record_id in ids}
    assert set(counted) == set(ids)
    for record_id in ids:
        as_sent = sent[record_id]
        corrected = counted[record_id]
        # The log keeps the device's time as sent; the answer is counted at the real time.
        assert as_sent == pytest.approx(real_now - timedelta(days=1), abs=timedelta(minutes=1))
        assert corrected == pytest.approx(real_now, abs=timedelta(minutes=1))


BACKLOG = 50_000


def test_back_after_30_days_offline_with_50000_records(live_server, tmp_path, credentials):
    now = datetime.now(UTC)
    clock = ManualClock(now)
    survey = load_default_survey()
    choices = [choice.id for choice in survey.question(survey.main_question).choices]
    month_ago = now - timedelta(days=30)
    step = timedelta(days=30) / BACKLOG
    # The kiosk was enrolled before it went offline with its month of answers.
    enrolled_since(live_server.storage, credentials.device_id, month_ago)
    payloads = [
        AnswerPayload(
            survey_id=survey.id,
            survey_version=survey.version,
            channel="kiosk",
            language="fr",
            status="complete",
            answers={survey.main_question: choices[index % len(choices)]},
        )
        for index in range(len(choices))
    ]
    with KioskStore(tmp_path / "offline.db", clock) as store:
        store.save_credentials(credentials)
        store.enqueue_many(
            (RecordKind.ANSWER, payloads[i % len(payloads)], month_ago + i * step, i)
            for i in range(BACKLOG)
        )
        heartbeat = build_heartbeat(store, SyncReport(now, now), battery=lambda: None)
        assert heartbeat.backlog == BACKLOG
        assert heartbeat.oldest_unsent_age_seconds == pytest.approx(30 * 86_400, abs=1)
        with SyncClient.from_credentials(credentials, timeout=(5, 60)) as client:
            report = sync_once(store, client, batch_count=500, batch_bytes=1_000_000)
        assert report.ok, report.error
        assert (report.sent, report.forgotten, report.backlog) == (BACKLOG, BACKLOG, 0)
    with live_server.storage.read() as connection:
        assert schema.row_count(connection, "records") == BACKLOG
        assert schema.row_count(connection, "answers") == BACKLOG


def test_a_full_disk_is_shown_and_recovered_from(live_server, tmp_path, credentials):
    with KioskStore(tmp_path / "kiosk.db") as store:
        store.save_credentials(credentials)
        session = VisitorSession(store, store.clock, DeskConfig(survey=load_default_survey()))
        kept = []
        for _ in range(3):
            session.tap_main("satisfied", "fr")
            kept.append(session.response_id)
        pages = store.db.execute("PRAGMA page_count").fetchone()[0]
        store.db.execute(f"PRAGMA max_page_count = {pages}")  # no room left to grow

        def tap_until_full() -> None:
            for _ in range(1000):
                session.tap_main("very_satisfied", "fr")
                kept.append(session.response_id)

        with pytest.raises(StoreFull, match="disk is full") as full:
            tap_until_full()
        assert "nothing was written" in str(full.value)
        # What the staff screen reads: the error, with a code it can translate.
        status = store.sync_status()
        assert status.last_error_code == "store_full"
        assert "disk is full" in status.last_error
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        store.db.execute(f"PRAGMA max_page_count = {pages * 1000}")  # space is back
        session.tap_main("satisfied", "fr")
        kept.append(session.response_id)
        assert store.sync_status().last_error_code is None
        with SyncClient.from_credentials(credentials, timeout=FAST) as client:
            report = sync_once(store, client)
        assert report.ok, report.error
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # Every answer whose call returned reached the server (the main answer seals on its own
    # only at the end of the flow, so some are still open: they are sealed as partial later).
    sealed = server_ids(live_server)
    with KioskStore(tmp_path / "kiosk.db") as store:
        store.seal_abandoned_responses()
        with SyncClient.from_credentials(credentials, timeout=FAST) as client:
            assert sync_once(store, client).ok
    assert set(kept) <= server_ids(live_server)
    assert sealed <= server_ids(live_server)


def test_a_fault_proxy_passes_by_default(live_server, fault_proxy, store, client):
    # The control for every test above: without a scripted fault, nothing fails.
    ids = capture(store, 2)
    report = sync_once(store, client)
    assert report.ok, report.error
    assert server_ids(live_server) == set(ids)
    assert {item.fault for item in fault_proxy.log} == {fault_proxy.default}
