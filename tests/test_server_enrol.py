"""Device enrolment: a one-time, expiring code traded for a token shown once and stored hashed."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from sync_server.storage import UnknownDesk, devices
from tests.fixtures.server import SERVICE, SITE, bearer
from tests.tools.server_reads import stored_rows


def test_enrolment_returns_identity_and_a_token(app_client):
    storage = app_client.app.state.storage
    with storage.write() as connection:
        code = devices.create(
            connection, site=SITE, service=SERVICE, name="Borne IRIS", mode="tablet"
        )
    response = app_client.post("/api/v1/enrol", json={"code": code.code, "app_version": "0.3"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["device_id"] == code.device_id
    assert (body["site"], body["service"], body["mode"], body["name"]) == (
        SITE,
        SERVICE,
        "tablet",
        "Borne IRIS",
    )
    assert len(body["token"]) >= 40
    with storage.read() as connection:
        device = devices.get(connection, code.device_id)
    assert device.enrolled_at is not None
    assert device.app_version == "0.3"


def test_code_and_token_are_stored_only_as_hashes(app_client):
    storage = app_client.app.state.storage
    with storage.write() as connection:
        code = devices.create(connection, site=SITE, service=SERVICE)
    [(code_hash,)] = stored_rows(storage, "devices", "enrol_code_hash")
    assert code.code not in code_hash
    token = app_client.post("/api/v1/enrol", json={"code": code.code}).json()["token"]
    [(code_hash, token_hash)] = stored_rows(storage, "devices", "enrol_code_hash", "token_hash")
    assert code_hash is None  # used: gone
    assert token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_a_code_works_once(app_client):
    with app_client.app.state.storage.write() as connection:
        code = devices.create(connection, site=SITE, service=SERVICE).code
    assert app_client.post("/api/v1/enrol", json={"code": code}).status_code == 200
    again = app_client.post("/api/v1/enrol", json={"code": code})
    assert (again.status_code, again.json()["code"]) == (400, "invalid_enrol_code")


def test_a_code_is_forgiving_about_case_and_dashes(app_client):
    with app_client.app.state.storage.write() as connection:
        code = devices.create(connection, site=SITE, service=SERVICE).code
    typed = code.replace("-", " ").lower()
    assert app_client.post("/api/v1/enrol", json={"code": typed}).status_code == 200


def test_an_expired_code_is_refused(app_client):
    storage = app_client.app.state.storage
    long_ago = datetime.now(UTC) - timedelta(days=10)
    with storage.write() as connection:
        code = devices.create(
            connection, site=SITE, service=SERVICE, now=long_ago, ttl=timedelta(hours=72)
        )
    response = app_client.post("/api/v1/enrol", json={"code": code.code})
    assert (response.status_code, response.json()["code"]) == (400, "invalid_enrol_code")
    with storage.read() as connection:
        assert devices.get(connection, code.device_id).enrolled_at is None


def test_a_revoked_device_cannot_use_its_code(app_client):
    storage = app_client.app.state.storage
    with storage.write() as connection:
        code = devices.create(connection, site=SITE, service=SERVICE)
        devices.revoke(connection, code.device_id)
    response = app_client.post("/api/v1/enrol", json={"code": code.code})
    assert response.json()["code"] == "invalid_enrol_code"


def test_the_token_authenticates_the_device(app_client):
    with app_client.app.state.storage.write() as connection:
        code = devices.create(connection, site=SITE, service=SERVICE).code
    token = app_client.post("/api/v1/enrol", json={"code": code}).json()["token"]
    assert app_client.get("/api/v1/config", headers=bearer(token)).status_code == 200


def test_devices_belong_to_a_known_desk(server_storage):
    with pytest.raises(UnknownDesk), server_storage.write() as connection:
        devices.create(connection, site=SITE, service="mediatheques")
