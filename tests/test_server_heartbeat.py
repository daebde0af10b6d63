"""`POST /api/v1/heartbeat`: each device's last state and a bounded history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from qualivilles.protocol import Heartbeat, HeartbeatAck
from sync_server.settings import Settings
from sync_server.storage import devices
from sync_server.storage import health as fleet_health
from tests.fixtures.server import bearer, enrolled_token, server_settings_for
from tests.tools.server_reads import row_count, stored_rows
from tests.tools.waiting_records import figures_behind, log_unprojected


@pytest.fixture
def server_settings(tmp_path) -> Settings:
    """The server's own projection loop off: tests here see records wait for the projection."""
    return server_settings_for(tmp_path, projection_every=0)


def beat(**fields) -> dict:
    values = {
        "sent_at": datetime.now(UTC).isoformat(),
        "app_version": "0.5.0",
        "backlog": 12,
        "oldest_unsent_age_seconds": 3600.0,
        "held_records": 1,
        "last_error": "server unreachable",
        "last_error_code": "network",
        "disk_free_bytes": 5_000_000_000,
        "battery_percent": 87.5,
        "clock_offset_ms": -250,
    }
    values.update(fields)
    return values


@pytest.fixture
def token(app_client) -> str:
    return enrolled_token(app_client)


def send(client, token, **fields):
    return client.post("/api/v1/heartbeat", json=beat(**fields), headers=bearer(token))


def test_a_heartbeat_keeps_the_device_state(app_client, token):
    response = send(app_client, token)
    assert response.status_code == 200, response.text
    ack = HeartbeatAck.model_validate(response.json())
    assert abs(ack.received_at - datetime.now(UTC)) < timedelta(seconds=30)

    storage = app_client.app.state.storage
    with storage.read() as connection:
        device = devices.by_token(connection, token)
    with storage.read() as connection:
        [health] = fleet_health.fleet(connection)
    status = health.status
    assert status is not None
    assert (status.app_version, status.backlog, status.held_records) == ("0.5.0", 12, 1)
    assert (status.last_error, status.last_error_code) == ("server unreachable", "network")
    assert (status.disk_free_bytes, status.battery_percent) == (5_000_000_000, 87.5)
    assert status.oldest_unsent_age_seconds == 3600.0
    assert status.device_clock_offset_ms == -250
    assert abs(status.clock_offset_ms) < 30_000
    assert device.app_version == "0.5.0"
    assert abs(device.last_seen_at - ack.received_at) < timedelta(seconds=1)
    with storage.read() as connection:
        assert fleet_health.heartbeat_count(connection, device.id) == 1


def test_the_last_state_is_replaced_and_the_history_grows(app_client, server_storage, token):
    send(app_client, token, backlog=12)
    send(app_client, token, backlog=0, last_error=None, last_error_code=None, battery_percent=None)
    with server_storage.read() as connection:
        states = [h.status for h in fleet_health.fleet(connection)]
    assert [(s.backlog, s.last_error, s.battery_percent) for s in states] == [(0, None, None)]
    assert stored_rows(server_storage, "heartbeats", "backlog", order_by="id") == [(12,), (0,)]


def test_optional_fields_may_be_left_out(app_client, server_storage, token):
    body = {"sent_at": datetime.now(UTC).isoformat(), "app_version": "0.5.0", "backlog": 0}
    response = app_client.post("/api/v1/heartbeat", json=body, headers=bearer(token))
    assert response.status_code == 200, response.text
    with server_storage.read() as connection:
        [status] = [h.status for h in fleet_health.fleet(connection)]
    assert (status.held_records, status.disk_free_bytes) == (0, None)


def test_history_older_than_the_retention_is_purged_on_write(app_client, token):
    storage = app_client.app.state.storage
    old = datetime.now(UTC) - timedelta(days=91)
    with storage.write() as connection:
        device_id = devices.by_token(connection, token).id
        fleet_health.record_heartbeat(
            connection,
            device_id,
            Heartbeat.model_validate(beat(sent_at=old.isoformat())),
            received_at=old,
        )
        assert fleet_health.heartbeat_count(connection, device_id) == 1
    send(app_client, token)  # the app keeps QV_HEARTBEAT_RETENTION_DAYS = 90 days
    with storage.read() as connection:
        assert fleet_health.heartbeat_count(connection, device_id) == 1
    [(received_at,)] = stored_rows(storage, "heartbeats", "received_at")
    assert received_at.date() >= (datetime.now(UTC) - timedelta(days=1)).date()


def test_a_heartbeat_from_a_wrong_clock_flags_the_device(app_client, token):
    send(app_client, token, sent_at=(datetime.now(UTC) - timedelta(days=1)).isoformat())
    storage = app_client.app.state.storage
    with storage.read() as connection:
        device = devices.by_token(connection, token)
    assert device.drifting
    assert device.clock_drift_ms == pytest.approx(86_400_000, abs=30_000)
    send(app_client, token)
    with storage.read() as connection:
        assert not devices.by_token(connection, token).drifting


@pytest.mark.parametrize(
    "fields",
    [{"backlog": -1}, {"battery_percent": 140}, {"mood": "fine"}, {"sent_at": "soon"}],
    ids=["negative-backlog", "battery-over-100", "unknown-field", "bad-time"],
)
def test_an_invalid_heartbeat_is_refused_and_changes_nothing(
    app_client, server_storage, token, fields
):
    response = send(app_client, token, **fields)
    assert (response.status_code, response.json()["code"]) == (422, "invalid_body")
    assert row_count(server_storage, "heartbeats") == 0


def test_a_heartbeat_needs_a_device_token(app_client):
    response = app_client.post("/api/v1/heartbeat", json=beat())
    assert (response.status_code, response.json()["code"]) == (401, "missing_token")


def test_a_newly_enrolled_device_reports_a_large_backlog(app_client, server_storage):
    token = enrolled_token(app_client)
    response = app_client.post(
        "/api/v1/heartbeat", json=beat(backlog=50_000), headers=bearer(token)
    )
    assert response.status_code == 200
    HeartbeatAck.model_validate(response.json())
    with server_storage.read() as connection:
        [health] = fleet_health.fleet(connection)
    assert health.status is not None
    assert health.status.backlog == 50_000


def test_a_heartbeat_leaves_the_figures_to_the_projection(app_client, token):
    # Right after a sync's reply its records wait for the projection; the heartbeat that
    # follows is one small write and must not do that work (or wait for it) first.
    storage = app_client.app.state.storage
    log_unprojected(storage)
    assert figures_behind(storage)
    assert send(app_client, token).status_code == 200
    assert figures_behind(storage)
    with storage.read() as connection:
        assert fleet_health.heartbeat_count(connection, devices.by_token(connection, token).id)
