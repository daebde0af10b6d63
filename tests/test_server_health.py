"""`GET /api/v1/health`: the fleet and its quarantined conflicts, for whoever watches it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sync_server.storage import Source, uploads
from sync_server.storage import devices as stored_devices
from tests.fixtures.server import (
    SERVICE,
    SITE,
    answer_payload,
    bearer,
    enrol_code,
    enrolled_token,
    log_in_client,
    make_record,
    sync_body,
)
from tests.tools.documented import answer_schema, assert_documented


def conflict(client, token: str, sent_at: datetime | None = None) -> str:
    # Captured by the device's clock, the one `sent_at` is read on.
    original = make_record(answer_payload("satisfied"), at=sent_at)
    other = make_record(answer_payload("dissatisfied"), at=sent_at, record_id=str(original.id))
    for record in (original, other):
        body = sync_body(record, sent_at=sent_at)
        client.post("/api/v1/sync", json=body, headers=bearer(token))
    return str(original.id)


def test_health_needs_a_login(app_client):
    response = app_client.get("/api/v1/health")
    assert (response.status_code, response.json()["code"]) == (401, "login_required")
    token = enrolled_token(app_client)
    response = app_client.get("/api/v1/health", headers=bearer(token))
    assert (response.status_code, response.json()["code"]) == (401, "login_required")


def test_a_service_manager_may_not_watch_the_fleet(app_client):
    log_in_client(app_client, "etat-civil", role="service_manager")
    response = app_client.get("/api/v1/health")
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")


@pytest.mark.parametrize("role", ["admin", "quality_manager"])
def test_health_shows_state_drift_silence_and_conflicts(app_client, role):
    storage = app_client.app.state.storage
    token = enrolled_token(app_client)
    late = datetime.now(UTC) - timedelta(days=1)
    record_id = conflict(app_client, token, sent_at=late)
    beat = {
        "sent_at": late.isoformat(),
        "app_version": "0.5.0",
        "backlog": 7,
        "held_records": 1,
        "last_error": "conflict on 1 record",
        "last_error_code": "conflict",
        "battery_percent": 55.0,
    }
    assert app_client.post("/api/v1/heartbeat", json=beat, headers=bearer(token)).status_code == 200
    # A kiosk enrolled three days ago and never heard from since.
    code = enrol_code(storage, SITE, SERVICE, name="Borne muette")
    with storage.write() as connection:
        stored_devices.enrol(connection, code, now=datetime.now(UTC) - timedelta(days=3))
    # A conflict from the phone survey (no device).
    phone = Source(site=SITE, service=SERVICE, channel="phone")
    original = make_record(answer_payload(channel="phone"))
    uploads.store_batch(storage, [original], phone)
    clash = make_record(answer_payload("dissatisfied", channel="phone"), record_id=str(original.id))
    uploads.store_batch(storage, [clash], phone)

    log_in_client(app_client, f"user-{role}", role=role)
    response = app_client.get("/api/v1/health")
    assert response.status_code == 200, response.text
    health = response.json()
    assert (health["silent_after_hours"], health["max_clock_drift_seconds"]) == (24, 120)
    devices = {device["name"]: device for device in health["devices"]}
    active = devices["kiosk centre-administratif/iris"]
    assert active["silent"] is False
    assert active["clock"]["drifting"] is True
    assert active["clock"]["drift_ms"] == pytest.approx(86_400_000, abs=30_000)
    assert active["clock"]["drifting_since"] is not None
    assert active["quarantine"] == {"count": 1, "record_ids": [record_id]}
    heartbeat = active["last_heartbeat"]
    assert (heartbeat["backlog"], heartbeat["held_records"]) == (7, 1)
    assert (heartbeat["last_error"], heartbeat["last_error_code"]) == (
        "conflict on 1 record",
        "conflict",
    )
    assert heartbeat["battery_percent"] == 55.0
    assert heartbeat["disk_free_bytes"] is None

    mute = devices["Borne muette"]
    assert mute["silent"] is True
    assert mute["last_heartbeat"] is None
    assert mute["clock"]["drifting"] is False
    assert mute["quarantine"] == {"count": 0, "record_ids": []}

    assert health["quarantine"] == {
        "count": 2,
        "record_ids": sorted([record_id, str(original.id)]),
    }
    assert_documented(health, *answer_schema(app_client.app, "/api/v1/health"))


def test_revoked_and_not_yet_enrolled_devices_are_not_silent(app_client):
    storage = app_client.app.state.storage
    with storage.write() as connection:
        waiting = stored_devices.create(connection, site=SITE, service=SERVICE, name="En attente")
    old = datetime.now(UTC) - timedelta(days=5)
    code = enrol_code(storage, name="Volée")
    with storage.write() as connection:
        gone = stored_devices.enrol(connection, code, now=old).device
        stored_devices.revoke(connection, gone.id)
    log_in_client(app_client, "admin", role="admin")
    devices = {d["name"]: d for d in app_client.get("/api/v1/health").json()["devices"]}
    assert devices["En attente"]["silent"] is False
    assert devices["En attente"]["enrolled_at"] is None
    assert devices["Volée"]["silent"] is False
    assert devices["Volée"]["revoked_at"] is not None
    assert waiting.device_id in {d["id"] for d in devices.values()}


def test_health_after_an_enrolment_and_a_heartbeat(app_client):
    token = enrolled_token(app_client)
    beat = {"sent_at": datetime.now(UTC).isoformat(), "app_version": "0.5.0", "backlog": 3}
    app_client.post("/api/v1/heartbeat", json=beat, headers=bearer(token))
    log_in_client(app_client, "qualite")
    health = app_client.get("/api/v1/health").json()
    [device] = health["devices"]
    assert device["last_heartbeat"]["backlog"] == 3
    assert device["silent"] is False
