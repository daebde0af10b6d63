"""What the kiosk tells the server about itself and how it keeps its access: heartbeat after
each pass, token rotation that never locks it out, poison records set aside, the reachability
probe's rules and the battery facade. Real client, store and server on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.core.device_state import Credentials
from kiosk.core.store import KioskStore
from kiosk.core.sync import (
    PROBE_AFTER,
    SyncReport,
    build_heartbeat,
    next_probe_in,
    probe_address,
    server_reachable,
    sync_once,
    token_rotation_due,
)
from kiosk.core.sync_client import AuthRejected, SyncClient
from kiosk.platform import battery
from qualivilles.protocol import AnswerPayload, RecordKind, ResponseStatus
from sync_server.storage import health as fleet_health
from tests.fixtures.fault_proxy import DropAfterCommit
from tests.tools.server_reads import record_ids

FAST = (2.0, 5.0)


def capture(store: KioskStore, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        response_id = store.start_response("qualivilles-accueil", 1, "fr")
        store.record_answer(response_id, "overall", "satisfied")
        store.seal_response(response_id, ResponseStatus.COMPLETE)
        ids.append(response_id)
    return ids


@pytest.fixture
def credentials(live_server, fault_proxy) -> Credentials:
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


def last_state(live_server, device_id: str):
    with live_server.storage.read() as connection:
        [health] = [h for h in fleet_health.fleet(connection) if h.device.id == device_id]
    return health.status


# Heartbeat -------------------------------------------------------------------------------------


def test_a_heartbeat_follows_each_pass(live_server, store, client, credentials):
    capture(store, 2)
    report = sync_once(store, client, battery=lambda: 42.0)
    assert report.ok, report.error
    assert report.heartbeat_sent
    state = last_state(live_server, credentials.device_id)
    assert (state.backlog, state.held_records, state.battery_percent) == (0, 0, 42.0)
    assert state.oldest_unsent_age_seconds is None
    assert state.disk_free_bytes > 0
    assert state.app_version
    assert state.device_clock_offset_ms == pytest.approx(0, abs=5_000)
    assert state.last_error is None
    assert sync_once(store, client, battery=lambda: None).heartbeat_sent
    with live_server.storage.read() as connection:
        assert fleet_health.heartbeat_count(connection, credentials.device_id) == 2


def test_the_heartbeat_describes_the_backlog_and_the_held_records(store):
    ids = capture(store, 3)
    store.db.execute("UPDATE outbox SET state = 'rejected' WHERE id = ?", (ids[0],))
    now = store.clock.now()
    failed = SyncReport(now, now, error="server answered 500", error_code="server_error")
    beat = build_heartbeat(store, failed, battery=lambda: 150.0, app_version="9.9")
    assert (beat.backlog, beat.held_records) == (2, 1)
    assert beat.oldest_unsent_age_seconds >= 0
    assert (beat.last_error, beat.last_error_code) == ("server answered 500", "server_error")
    assert beat.battery_percent == 100.0  # a confused sensor is clamped, never refused
    assert beat.app_version == "9.9"


def test_no_heartbeat_is_sent_to_a_server_that_cannot_be_reached(store, client, fault_proxy):
    capture(store, 1)
    fault_proxy.down()
    report = sync_once(store, client)
    assert report.error_code == "server_unreachable"
    assert not report.heartbeat_sent


# Token rotation --------------------------------------------------------------------------------


def test_a_lost_rotation_answer_is_recovered_by_asking_again(
    live_server, fault_proxy, store, credentials
):
    old = credentials.token
    fault_proxy.next(DropAfterCommit(), path="/api/v1/token/rotate")
    with SyncClient.from_credentials(store.credentials(), timeout=FAST) as client:
        first = sync_once(store, client, rotate_token=True)
    assert first.ok, first.error  # the upload went through; only the rotation was lost
    assert not first.token_rotated
    assert store.credentials().token == old
    capture(store, 2)
    with SyncClient.from_credentials(store.credentials(), timeout=FAST) as client:
        second = sync_once(store, client, rotate_token=True)  # the old token still works
        assert second.ok, second.error
        assert second.token_rotated
        new = store.credentials().token
        assert new != old  # saved before it was used
        assert client.session.headers["Authorization"] == f"Bearer {new}"
    # A restarted kiosk builds its client from the store: the new token, which works…
    capture(store, 1)
    with SyncClient.from_credentials(store.credentials(), timeout=FAST) as client:
        assert sync_once(store, client).forgotten == 1
    assert store.token_issued_at() is not None
    # …and once it has been used, the old one is refused.
    with SyncClient(fault_proxy.url, old, timeout=FAST) as stale, pytest.raises(AuthRejected):
        stale.upload([])


def test_rotation_is_due_only_for_an_old_token():
    issued = datetime(2025, 3, 1, tzinfo=UTC)
    month = timedelta(days=30)
    assert token_rotation_due(issued, issued + month, month)
    assert not token_rotation_due(issued, issued + month - timedelta(seconds=1), month)
    assert not token_rotation_due(None, issued, month)  # age unknown: never on a guess
    assert not token_rotation_due(issued, issued + 10 * month, None)  # rotation turned off
    assert not token_rotation_due(issued, issued - month, month)  # clock set back


# One poison record never blocks the rest -------------------------------------------------------


def test_a_record_the_server_refuses_is_held_and_the_rest_go(live_server, store, client):
    first = capture(store, 2)
    poison = store.add_record(
        RecordKind.ANSWER,
        AnswerPayload(
            survey_id="qualivilles-accueil",
            survey_version=99,  # never published
            channel="kiosk",
            language="fr",
            status="complete",
            answers={"overall": "satisfied"},
        ),
    )
    last = capture(store, 2)
    report = sync_once(store, client)
    assert report.ok, report.error
    assert (report.forgotten, report.rejected, report.backlog) == (4, 1, 0)
    [held] = store.held_records()
    assert (held["id"], held["state"], held["last_code"]) == (poison, "rejected", "unknown_survey")
    stored = set(record_ids(live_server.storage))
    assert set(first + last) <= stored
    assert poison not in stored
    assert last_state(live_server, store.credentials().device_id).held_records == 1


def test_an_unreadable_outbox_row_is_set_aside_on_the_device(live_server, store, client):
    ids = capture(store, 3)
    store.db.execute("UPDATE outbox SET payload = '{not json' WHERE id = ?", (ids[1],))
    store.db.conn.commit()
    report = sync_once(store, client)
    assert report.ok, report.error
    assert (report.forgotten, report.backlog) == (2, 0)
    [held] = store.held_records()
    assert (held["id"], held["last_code"]) == (ids[1], "unreadable_record")


# The reachability probe ------------------------------------------------------------------------


@given(
    code=st.sampled_from(
        [
            None,
            "server_unreachable",
            "server_timeout",
            "connection_lost",
            "server_error",
            "invalid_acknowledgement",
            "device_revoked",
            "store_full",
        ]
    ),
    remaining=st.floats(min_value=0, max_value=10_000, allow_nan=False),
    interval=st.floats(min_value=-1, max_value=60, allow_nan=False),
)
def test_the_probe_runs_only_while_waiting_out_a_failure_to_connect(code, remaining, interval):
    step = next_probe_in(code, remaining, interval)
    if code not in PROBE_AFTER or interval <= 0 or remaining <= interval:
        assert step is None
    else:
        assert step == interval  # never later than the retry itself, never busy-looping
        assert 0 < step < remaining


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://127.0.0.1:8000", ("127.0.0.1", 8000)),
        ("https://qualite.mairie.example/", ("qualite.mairie.example", 443)),
        ("http://mairie.example", ("mairie.example", 80)),
        ("ftp://mairie.example", None),
        ("not a url", None),
        ("http://host:99999", None),
    ],
)
def test_the_probe_targets_the_server_host_and_port(url, address):
    assert probe_address(url) == address


def test_the_probe_tells_a_listening_port_from_a_closed_one():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        address = listener.getsockname()
        assert server_reachable(address, timeout=1)
    assert not server_reachable(address, timeout=1)


# The battery facade ----------------------------------------------------------------------------


def supply(root: Path, name: str, kind: str, capacity: str | None, scope: str | None = None):
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "type").write_text(kind + "\n")
    if capacity is not None:
        (folder / "capacity").write_text(capacity + "\n")
    if scope is not None:
        (folder / "scope").write_text(scope + "\n")


def test_linux_batteries_are_read_from_sysfs(tmp_path):
    supply(tmp_path, "AC", "Mains", None)
    supply(tmp_path, "BAT0", "Battery", "80")
    supply(tmp_path, "BAT1", "Battery", "60")
    supply(tmp_path, "hidpp_battery_0", "Battery", "5", scope="Device")  # a wireless mouse
    assert battery._linux(tmp_path) == 70.0


def test_no_battery_or_no_sysfs_is_none(tmp_path):
    supply(tmp_path, "AC", "Mains", None)
    supply(tmp_path, "BAT0", "Battery", "n/a")
    assert battery._linux(tmp_path) is None
    assert battery._linux(tmp_path / "missing") is None


def test_other_platforms_say_nothing():
    assert battery.battery_percent("win32") is None
    assert battery.battery_percent("darwin") is None
    level = battery.battery_percent("linux")
    assert level is None or 0 <= level <= 100
