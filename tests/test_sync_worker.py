"""The background sync worker: drains the backlog to the real server, wakes on demand, backs off
after failures, and never holds up the thread that captures answers."""

from __future__ import annotations

import queue
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler

import pytest

from kiosk.core.device_state import Credentials, SyncStatus
from kiosk.core.store import KioskStore
from kiosk.core.sync import SyncReport, SyncWorker
from kiosk.core.sync_client import SyncClient
from qualivilles.protocol import ResponseStatus
from tests.fixtures.http_stub import Stub
from tests.tools.server_reads import record_ids

SITE, SERVICE = "centre-administratif", "iris"
WAIT = 30  # seconds; a generous bound on each wait, never a sleep


def capture(store: KioskStore, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        response_id = store.start_response("qualivilles-accueil", 1, "fr")
        store.record_answer(response_id, "overall", "very_satisfied")
        store.seal_response(response_id, ResponseStatus.COMPLETE)
        ids.append(response_id)
    return ids


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


class Harness:
    """A UI-side store, a worker on the same file, and the reports it sends back."""

    def __init__(self, path, **worker_options) -> None:
        self.path = path
        self.store = KioskStore(path)
        self.reports: queue.Queue[SyncReport] = queue.Queue()
        worker_options.setdefault("interval", 3600)  # only wake() or a retry triggers a pass
        worker_options.setdefault("rand", lambda: 1.0)
        self.worker = SyncWorker(
            lambda: KioskStore(path), on_report=self.reports.put, **worker_options
        )

    def next_report(self) -> SyncReport:
        return self.reports.get(timeout=WAIT)

    def close(self) -> None:
        self.worker.stop(timeout=WAIT)
        assert not self.worker.is_alive()
        self.store.close()


@pytest.fixture
def harness(tmp_path) -> Iterator[Callable[..., Harness]]:
    made: list[Harness] = []

    def make(**options) -> Harness:
        made.append(Harness(tmp_path / "kiosk.db", **options))
        return made[-1]

    yield make
    for item in made:
        item.close()


@pytest.fixture
def credentials(live_server) -> Credentials:
    return SyncClient.enrol(live_server.url, live_server.enrol(SITE, SERVICE), "test")


def server_record_ids(live_server) -> set[str]:
    return set(record_ids(live_server.storage))


def test_the_worker_drains_the_backlog_in_batches(live_server, credentials, harness):
    h = harness(batch_count=10)
    h.store.save_credentials(credentials)
    ids = capture(h.store, 35)
    h.worker.start()
    report = h.next_report()
    assert report.ok, report.error
    assert (report.sent, report.forgotten, report.backlog) == (35, 35, 0)
    assert h.store.backlog() == 0
    assert set(ids) <= server_record_ids(live_server)
    assert h.store.cached_config().config["service"]["slug"] == SERVICE
    status = h.store.sync_status()
    assert status.last_sync_at == report.finished_at
    assert status.next_attempt_at > datetime.now(UTC) + timedelta(minutes=30)


def test_wake_syncs_new_answers_at_once(live_server, credentials, harness):
    h = harness()
    h.store.save_credentials(credentials)
    h.worker.start()
    assert h.next_report().sent == 0
    ids = capture(h.store, 3)
    h.worker.wake()
    report = h.next_report()
    assert (report.sent, report.backlog) == (3, 0)
    assert set(ids) <= server_record_ids(live_server)


def test_after_a_failure_the_next_attempt_is_backed_off_and_persisted(
    live_server, credentials, harness
):
    h = harness(backoff_base=600, backoff_cap=600)  # the retry would come in 10 minutes
    unreachable = Credentials(closed_port_url(), "dev", "token", SITE, SERVICE)
    h.store.save_credentials(unreachable)
    ids = capture(h.store, 4)
    h.worker.start()
    report = h.next_report()
    assert report.error_kind == "server_unreachable"
    assert h.store.backlog() == 4
    status = h.store.sync_status()
    assert status.consecutive_failures == 1
    assert status.last_error_code == "server_unreachable"
    assert status.next_attempt_at > datetime.now(UTC) + timedelta(minutes=9)
    # The network is back (here: the right server): "sync now" does not wait for the backoff.
    h.store.save_credentials(credentials)
    h.worker.wake()
    report = h.next_report()
    assert report.ok, report.error
    assert report.backlog == 0
    assert set(ids) <= server_record_ids(live_server)
    assert h.store.sync_status().consecutive_failures == 0


def test_a_restarted_worker_keeps_backing_off(tmp_path, harness):
    with KioskStore(tmp_path / "kiosk.db") as store:
        store.save_credentials(Credentials(closed_port_url(), "dev", "token", SITE, SERVICE))
        store.save_sync_status(
            SyncStatus(
                consecutive_failures=3,
                next_attempt_at=datetime.now(UTC) + timedelta(minutes=4),
            )
        )
    h = harness()
    h.worker.start()
    with pytest.raises(queue.Empty):
        h.reports.get(timeout=0.5)  # still inside the persisted backoff
    h.worker.wake()
    assert h.next_report().error_kind == "server_unreachable"


def test_an_unenrolled_device_reports_it_and_syncs_once_enrolled(live_server, credentials, harness):
    h = harness()
    capture(h.store, 2)
    h.worker.start()
    report = h.next_report()
    assert report.error_kind == "not_enrolled"
    assert report.backlog == 2
    h.store.save_credentials(credentials)
    h.worker.wake()
    assert h.next_report().forgotten == 2


def test_a_revoked_device_waits_for_a_human(tmp_path, harness):
    def revoked(handler: BaseHTTPRequestHandler, body: bytes) -> None:
        payload = b'{"title":"Revoked","status":401,"code":"device_revoked"}'
        handler.send_response(401)
        handler.send_header("Content-Type", "application/problem+json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    server = Stub(revoked)
    try:
        h = harness(backoff_cap=900)
        h.store.save_credentials(Credentials(server.url, "dev", "token", SITE, SERVICE))
        capture(h.store, 1)
        h.worker.start()
        report = h.next_report()
        assert (report.error_kind, report.error_code) == ("auth_rejected", "device_revoked")
        assert h.store.backlog() == 1  # kept on the device for an admin to export
        next_attempt = h.store.sync_status().next_attempt_at
        assert next_attempt > datetime.now(UTC) + timedelta(minutes=14)
    finally:
        server.close()


def test_capturing_never_waits_for_an_upload_in_flight(tmp_path, harness):
    arrived, release = threading.Event(), threading.Event()

    def hang(handler: BaseHTTPRequestHandler, body: bytes) -> None:
        arrived.set()
        release.wait(timeout=WAIT)

    server = Stub(hang)
    try:
        h = harness()
        h.store.save_credentials(Credentials(server.url, "dev", "token", SITE, SERVICE))
        capture(h.store, 5)
        h.worker.start()
        assert arrived.wait(timeout=WAIT)  # the worker is now blocked on the network
        ids = capture(h.store, 20)  # the screen keeps recording taps meanwhile
        assert h.store.backlog() == 25
        assert h.reports.empty()
        assert ids
    finally:
        release.set()
        server.close()


def test_a_failing_report_callback_does_not_stop_syncing(tmp_path, harness):
    h = harness()
    calls: queue.Queue[SyncReport] = queue.Queue()

    def explode(report: SyncReport) -> None:
        calls.put(report)
        raise RuntimeError("UI gone")

    h.worker = SyncWorker(lambda: KioskStore(h.path), on_report=explode, interval=3600)
    h.worker.start()
    assert calls.get(timeout=WAIT).error_kind == "not_enrolled"
    h.worker.wake()
    assert calls.get(timeout=WAIT).error_kind == "not_enrolled"
    assert h.worker.is_alive()


def test_stop_ends_the_thread_promptly(tmp_path, harness):
    h = harness()
    h.worker.start()
    h.next_report()
    h.worker.stop(timeout=WAIT)
    assert not h.worker.is_alive()
