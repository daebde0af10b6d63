"""Alerts with several server processes on one database: one runner delivers at a time, a runner
killed mid-delivery is taken over once its lease has ended, and every try of an alert carries
the same delivery key. The webhook is a real HTTP server on loopback that holds its answer until
the test lets it go."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler

import pytest

from sync_server.alerts.delivery import (
    RETRY_AFTER,
    SMTP_EXCHANGES,
    check_alerts,
    delivery_lease,
)
from sync_server.settings import Settings
from sync_server.storage import Storage, alerts, migrations, town
from tests.fixtures.http_stub import Stub, send
from tests.fixtures.server import TOWN, server_settings_for
from tests.tools.desk_records import answers

NOW = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
WAIT = 60  # seconds a test waits for what must happen long before


class HeldWebhook:
    """A webhook receiver that answers 204 only once `release` is set (each request sets
    `arrived` first); with `hold_first_only`, later requests are answered at once."""

    def __init__(self, hold_first_only: bool = False) -> None:
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.hold_first_only = hold_first_only
        self.stub = Stub(self._respond)

    def _respond(self, handler: BaseHTTPRequestHandler, _body: bytes) -> None:
        first = len(self.stub.requests) == 1
        self.arrived.set()
        if first or not self.hold_first_only:
            self.release.wait(WAIT)
        send(handler, 204, b"")

    def keys(self) -> list[str]:
        return [json.loads(body)["idempotency_key"] for _, _, body in self.stub.requests]

    def close(self) -> None:
        self.release.set()
        self.stub.close()


@pytest.fixture
def held_webhook() -> Iterator[HeldWebhook]:
    webhook = HeldWebhook()
    yield webhook
    webhook.close()


def webhook_settings(tmp_path, url: str, **overrides) -> Settings:
    return server_settings_for(
        tmp_path,
        alerts_enabled=True,
        alert_webhook_url=url,
        alert_min_answers=5,
        **overrides,
    )


def unhappy_hour(storage: Storage, end: datetime) -> None:
    """6 unhappy answers of 8 in the hour before `end`: one alert is due."""
    answers(storage, ["very_dissatisfied"] * 6 + ["satisfied"] * 2, end - 30 * MINUTE)


def history(storage: Storage) -> list[alerts.AlertRecord]:
    with storage.read() as connection:
        return alerts.history(connection)


def test_the_lease_outlasts_the_longest_delivery():
    for timeout in (0.5, 10.0, 120.0):
        for recipients in (0, 1, 5):
            longest = timedelta(seconds=(SMTP_EXCHANGES + max(recipients, 1)) * timeout)
            lease = delivery_lease(timeout, recipients)
            assert lease > longest
            assert lease > RETRY_AFTER
    # The case seen in the field: a webhook answering in 40 s is well within the default lease.
    assert delivery_lease(10.0, 1) > timedelta(seconds=40)


def test_two_runners_racing_on_one_database_deliver_once(tmp_path, any_storage, held_webhook):
    settings = webhook_settings(tmp_path, held_webhook.stub.url)
    unhappy_hour(any_storage, NOW)
    reports = []
    first = threading.Thread(
        target=lambda: reports.append(check_alerts(any_storage, settings, NOW)), daemon=True
    )
    first.start()
    assert held_webhook.arrived.wait(WAIT)  # the first runner is delivering, slowly
    # Another process's runner, 40 s later: the first still holds the lease.
    second = check_alerts(any_storage, settings, NOW + timedelta(seconds=40))
    assert (second.decided, second.delivered, second.failed) == ([], 0, [])
    assert len(held_webhook.stub.requests) == 1
    held_webhook.release.set()
    first.join(WAIT)
    assert not first.is_alive()
    assert reports[0].delivered == 1
    # And once it is done, a later check finds nothing left to send.
    assert check_alerts(any_storage, settings, NOW + 2 * MINUTE).delivered == 0
    assert len(held_webhook.stub.requests) == 1
    [row] = history(any_storage)
    assert row.attempts == 1
    assert NOW < row.sent_at < NOW + 40 * timedelta(seconds=1)


def test_a_runner_killed_mid_delivery_is_taken_over_after_its_lease(tmp_path, storage_url):
    webhook = HeldWebhook(hold_first_only=True)
    storage = Storage.from_url(storage_url)
    try:
        migrations.upgrade(storage)
        with storage.write() as connection:
            town.load_town(connection, TOWN)
        now = datetime.now(UTC)
        unhappy_hour(storage, now)
        env = {
            **os.environ,
            "QV_DATABASE_URL": storage_url,
            "QV_ENVIRONMENT": "development",
            "QV_ALERTS_ENABLED": "true",
            "QV_ALERT_WEBHOOK_URL": webhook.stub.url,
            "QV_ALERT_MIN_ANSWERS": "5",
        }
        runner = subprocess.Popen(
            [sys.executable, "-m", "sync_server.cli", "check-alerts"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert webhook.arrived.wait(WAIT), "the runner never delivered"
        finally:
            runner.kill()  # mid-delivery: no answer read, nothing recorded as sent
            runner.wait(WAIT)
        [row] = history(storage)
        assert (row.sent_at, row.attempts) == (None, 1)
        settings = webhook_settings(tmp_path, webhook.stub.url)
        lease = delivery_lease(settings.alert_timeout_seconds, 0)
        # While the dead runner's lease lasts, nobody sends the alert again.
        assert check_alerts(storage, settings, now + 2 * RETRY_AFTER).delivered == 0
        assert len(webhook.stub.requests) == 1
        # Once it has ended, the next runner delivers it, with the same key.
        taken_over = check_alerts(storage, settings, now + lease + MINUTE)
        assert taken_over.delivered == 1
        [row] = history(storage)
        assert row.attempts == 2
        assert row.sent_at is not None
        assert webhook.keys() == [row.delivery_key, row.delivery_key]
        assert [h["Idempotency-Key"] for h in webhook.stub.headers] == webhook.keys()
    finally:
        webhook.close()
        storage.close()


def test_the_delivery_key_is_the_same_on_every_try(tmp_path, server_storage):
    status = [503]
    stub = Stub(lambda handler, _body: send(handler, status[0], b""))
    try:
        settings = webhook_settings(tmp_path, stub.url)
        unhappy_hour(server_storage, NOW)
        assert len(check_alerts(server_storage, settings, NOW).failed) == 1
        status[0] = 204
        assert check_alerts(server_storage, settings, NOW + MINUTE).delivered == 1
        keys = [json.loads(body)["idempotency_key"] for _, _, body in stub.requests]
        [row] = history(server_storage)
        assert keys == [row.delivery_key] * 2
        assert [h["Idempotency-Key"] for h in stub.headers] == keys
    finally:
        stub.close()
