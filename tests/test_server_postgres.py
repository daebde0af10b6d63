"""The real server on PostgreSQL (`QV_DATABASE_URL=postgresql+psycopg://…`): a kiosk's sync
client uploads through it, the indicators API reads it back, and the same batch delivered twice
at once is stored once."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests

from kiosk.core.store import KioskStore
from kiosk.core.sync import sync_once
from kiosk.core.sync_client import SyncClient
from qualivilles.protocol import SyncResponse
from sync_server.storage import health, schema, users
from tests.fixtures.server import (
    SERVICE,
    SITE,
    LiveServer,
    answer_payload,
    bearer,
    make_record,
    running_server,
    sync_body,
)
from tests.tools.kiosk_records import fill
from tests.tools.projected import all_projected


@pytest.fixture
def postgres_server(tmp_path, postgres_url) -> Iterator[LiveServer]:
    """As `live_server`, with settings naming a PostgreSQL database."""
    with running_server(tmp_path, database_url=postgres_url) as server:
        assert server.storage.engine.dialect.name == "postgresql"
        yield server


def log_in(base_url: str) -> requests.Session:
    """Through the login form, CSRF token included."""
    session = requests.Session()
    page = session.get(f"{base_url}/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = session.post(
        f"{base_url}/login",
        data={"username": "qualite", "password": "a long test password", "csrf_token": token},
        timeout=10,
    )
    assert response.ok, response.text
    return session


def test_a_kiosk_uploads_and_the_indicators_read_it_back(postgres_server, tmp_path):
    code = postgres_server.enrol(SITE, SERVICE, mode="tablet")  # it sends visits too
    credentials = SyncClient.enrol(postgres_server.url, code, "t")
    with KioskStore(tmp_path / "kiosk.db") as store, SyncClient.from_credentials(credentials) as c:
        ids = fill(store, answers=6, visits=2)  # 3 satisfied, 3 dissatisfied
        report = sync_once(store, c, batch_count=5)
        assert report.ok, report.error
        assert (report.sent, report.forgotten, report.backlog) == (8, 8, 0)
        again = sync_once(store, c)
        assert (again.ok, again.sent) == (True, 0)
    storage = postgres_server.storage
    all_projected(storage)
    with storage.read() as connection:
        assert schema.row_count(connection, "records") == len(ids)
        assert schema.row_count(connection, "answers") == 6
        assert schema.row_count(connection, "visits") == 2
        assert health.heartbeat_count(connection, credentials.device_id) == 2
    with storage.write() as connection:
        users.create(
            connection, username="qualite", password="a long test password", role="quality_manager"
        )
    month = datetime.now(UTC).astimezone(storage.zone).strftime("%Y-%m")
    session = log_in(postgres_server.url)
    response = session.get(
        f"{postgres_server.url}/api/v1/indicators",
        params={"from": month, "to": month, "site": SITE},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    [iris] = [row for row in response.json()["rows"] if row["service"] == SERVICE]
    assert iris["figures"]["answers"]["value"] == 6
    assert iris["figures"]["satisfaction_rate"]["value"] == 50.0


def test_the_same_batch_delivered_twice_concurrently_is_stored_once(postgres_server):
    code = postgres_server.enrol()
    token = requests.post(
        f"{postgres_server.url}/api/v1/enrol", json={"code": code}, timeout=10
    ).json()["token"]
    start = datetime.now(UTC) - timedelta(hours=1)
    records = [make_record(answer_payload(), at=start + timedelta(seconds=n)) for n in range(200)]
    body = json.dumps(sync_body(*records))
    barrier = threading.Barrier(2)
    responses: list[SyncResponse] = []

    def deliver() -> None:
        barrier.wait()
        response = requests.post(
            f"{postgres_server.url}/api/v1/sync",
            data=body,
            headers={**bearer(token), "Content-Type": "application/json"},
            timeout=60,
        )
        response.raise_for_status()
        responses.append(SyncResponse.model_validate(response.json()))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(responses) == 2
    statuses = [ack.status for r in responses for ack in r.acknowledged]
    assert statuses.count("stored") == len(records)
    assert statuses.count("duplicate") == len(records)
    all_projected(postgres_server.storage)
    with postgres_server.storage.read() as connection:
        assert schema.row_count(connection, "records") == len(records)
        assert schema.row_count(connection, "answers") == len(records)
