"""Device lifecycle: token rotation without lock-out, revocation everywhere, the fleet listing."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from qualivilles.protocol import TokenRotation
from sync_server import cli
from sync_server.storage import devices
from tests.fixtures.server import (
    answer_payload,
    bearer,
    enrolled_token,
    make_record,
    sync_body,
)
from tests.tools.server_reads import row_count, stored_rows


def config_status(client, token: str) -> int:
    return client.get("/api/v1/config", headers=bearer(token)).status_code


def rotate(client, token: str) -> str:
    response = client.post("/api/v1/token/rotate", headers=bearer(token))
    assert response.status_code == 200, response.text
    return TokenRotation.model_validate(response.json()).token


@pytest.fixture
def token(app_client) -> str:
    return enrolled_token(app_client)


def test_the_old_token_works_until_the_new_one_is_first_used(app_client, token):
    new = rotate(app_client, token)
    assert new != token
    assert config_status(app_client, token) == 200  # the answer may have been lost: still in
    assert config_status(app_client, token) == 200
    assert config_status(app_client, new) == 200  # first use: the new one takes over
    response = app_client.get("/api/v1/config", headers=bearer(token))
    assert (response.status_code, response.json()["code"]) == (401, "invalid_token")
    assert config_status(app_client, new) == 200


def test_a_lost_rotation_answer_is_recovered_by_asking_again(app_client, token):
    lost = rotate(app_client, token)
    kept = rotate(app_client, token)  # asked again with the old token
    assert config_status(app_client, lost) == 401  # replaced before it was ever used
    assert config_status(app_client, kept) == 200
    assert config_status(app_client, token) == 401


def test_rotated_tokens_are_stored_only_as_hashes(app_client, server_storage, token):
    new = rotate(app_client, token)
    [(current, pending, rotated_at)] = stored_rows(
        server_storage, "devices", "token_hash", "pending_token_hash", "token_rotated_at"
    )
    assert current == hashlib.sha256(token.encode()).hexdigest()
    assert pending == hashlib.sha256(new.encode()).hexdigest()
    assert rotated_at is not None
    config_status(app_client, new)
    hashes = stored_rows(server_storage, "devices", "token_hash", "pending_token_hash")
    assert hashes == [(pending, None)]


def test_uploads_with_the_new_token_belong_to_the_same_device(app_client, server_storage, token):
    with app_client.app.state.storage.read() as connection:
        device_id = devices.by_token(connection, token).id
    new = rotate(app_client, token)
    record = make_record(answer_payload())
    response = app_client.post("/api/v1/sync", json=sync_body(record), headers=bearer(new))
    assert response.json()["acknowledged"][0]["status"] == "stored"
    assert stored_rows(server_storage, "records", "device_id") == [(device_id,)]


def test_a_revoked_device_is_refused_everywhere(app_client, token):
    storage = app_client.app.state.storage
    pending = rotate(app_client, token)
    with storage.write() as connection:
        devices.revoke(connection, devices.by_token(connection, token).id)
    heartbeat = {"sent_at": datetime.now(UTC).isoformat(), "app_version": "1", "backlog": 3}
    calls = {
        "sync": lambda t: app_client.post(
            "/api/v1/sync", json=sync_body(make_record(answer_payload())), headers=bearer(t)
        ),
        "heartbeat": lambda t: app_client.post(
            "/api/v1/heartbeat", json=heartbeat, headers=bearer(t)
        ),
        "config": lambda t: app_client.get("/api/v1/config", headers=bearer(t)),
        "rotate": lambda t: app_client.post("/api/v1/token/rotate", headers=bearer(t)),
    }
    for name, call in calls.items():
        for presented in (token, pending):
            response = call(presented)
            assert (response.status_code, response.json()["code"]) == (403, "device_revoked"), name
    assert row_count(storage, "records") == 0
    assert row_count(storage, "heartbeats") == 0
    # The pending token was never promoted, and no new one was issued.
    [(pending_hash,)] = stored_rows(storage, "devices", "pending_token_hash")
    assert pending_hash == hashlib.sha256(pending.encode()).hexdigest()


def test_rotation_needs_a_device_token(app_client):
    response = app_client.post("/api/v1/token/rotate")
    assert (response.status_code, response.json()["code"]) == (401, "missing_token")


HEADER = ["ID", "NAME", "DESK", "LAST", "SEEN", "BACKLOG", "OFFSET", "CLOCK", "STATE", "CONFLICTS"]


def test_the_devices_command_lists_the_fleet(app_client, token):
    storage = app_client.app.state.storage
    # A drifting kiosk with a backlog and one conflict in quarantine.
    late = datetime.now(UTC) - timedelta(days=1)  # the kiosk's clock, a day behind
    original = make_record(answer_payload("satisfied"), at=late)
    other = make_record(answer_payload("dissatisfied"), at=late, record_id=str(original.id))
    for record in (original, other):
        app_client.post("/api/v1/sync", json=sync_body(record, sent_at=late), headers=bearer(token))
    heartbeat = {"sent_at": late.isoformat(), "app_version": "0.5.0", "backlog": 42}
    app_client.post("/api/v1/heartbeat", json=heartbeat, headers=bearer(token))
    # A second device, revoked.
    second_token = enrolled_token(app_client)
    with storage.write() as connection:
        revoked = devices.by_token(connection, second_token)
        devices.revoke(connection, revoked.id)

    out = io.StringIO()
    url = app_client.app.state.settings.database_url
    assert cli.main(["--database-url", url, "devices"], out=out) == 0
    header, *lines = out.getvalue().splitlines()
    assert header.split() == HEADER
    with storage.read() as connection:
        drifting_id = devices.by_token(connection, token).id
    [drifting] = [line for line in lines if line.startswith(drifting_id)]
    assert "centre-administratif/iris" in drifting
    assert " 42 " in drifting
    # A day behind, give or take the seconds the upload itself took on a busy machine.
    offset = re.search(r"\+(\d+) s", drifting)
    assert offset is not None
    assert 86400 <= int(offset.group(1)) <= 86410
    assert "drifting" in drifting
    assert drifting.rstrip().endswith(" 1")  # one conflict in quarantine
    [revoked_line] = [line for line in lines if line.startswith(revoked.id)]
    assert "revoked" in revoked_line
    assert revoked_line.rstrip().endswith(" 0")


def test_the_devices_command_on_an_empty_fleet(tmp_path):
    out = io.StringIO()
    assert cli.main(["--database-url", f"sqlite:///{tmp_path / 'x.db'}", "devices"], out=out) == 0
    assert out.getvalue().split() == HEADER
