"""Unhappy-answers alerts end to end: answers ingested into a real database, a check, and the
mail caught by a real SMTP server on loopback (aiosmtpd) or the JSON caught by an HTTP stub."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from fastapi.testclient import TestClient
from pydantic import ValidationError

from sync_server import cli
from sync_server.alerts.delivery import alert_step, check_alerts
from sync_server.app import create_app
from sync_server.storage import Storage, alerts
from tests.fixtures.http_stub import Stub, send
from tests.fixtures.server import SERVICE, SITE, server_settings_for
from tests.tools.desk_records import answers

NOW = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)  # 11:00 in Paris
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Sink:
    """Keeps every message the SMTP server accepts."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.mails.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def start_sink(port: int, **kwargs: Any) -> tuple[Sink, Controller]:
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return sink, controller


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    port = free_port()
    sink, controller = start_sink(port)
    yield sink, port
    controller.stop()


@pytest.fixture
def webhook() -> Iterator[Stub]:
    stub = Stub(lambda handler, _body: send(handler, 204, b""))
    yield stub
    stub.close()


def mail_settings(tmp_path, port: int, **overrides: Any):
    values = {
        "alerts_enabled": True,
        "alert_smtp_host": "127.0.0.1",
        "alert_smtp_port": port,
        "alert_smtp_starttls": False,
        "alert_mail_from": "qualite@ville.example",
        "alert_mail_to": "qualite@ville.example, iris@ville.example",
        "alert_min_answers": 5,
        "alert_unhappy_percent": 40,
        "public_base_url": "https://qualite.ville.example/",
        "alert_timeout_seconds": 5,
        **overrides,
    }
    return server_settings_for(tmp_path, **values)


def alert_history(storage: Storage) -> list[alerts.AlertRecord]:
    with storage.read() as connection:
        return alerts.history(connection)


def bad_hour(storage: Storage, end: datetime = NOW) -> None:
    """In the hour before `end`: 3 very dissatisfied, 1 dissatisfied, 4 satisfied (4 unhappy of
    8 expressed, 50 %), 2 "no opinion", 5 suspect presses and a comment; unhappy answers just
    before the hour too, which it must not count."""
    start = end - HOUR
    answers(storage, ["very_dissatisfied"] * 3 + ["dissatisfied"], start + 5 * MINUTE)
    answers(storage, ["satisfied"] * 4, start + 30 * MINUTE)
    answers(storage, ["no_opinion"] * 2, start + 40 * MINUTE)
    answers(storage, ["very_dissatisfied"] * 5, start + 50 * MINUTE, suspect=True)
    comment = "Mme Martin, 06 12 34 56 78, en colère"
    answers(storage, ["dissatisfied"], end - MINUTE, comment=comment)
    answers(storage, ["very_dissatisfied"] * 6, start - 10 * MINUTE)


def test_a_bad_hour_sends_one_mail_naming_the_desk_and_the_counts(tmp_path, smtp, server_storage):
    sink, port = smtp
    settings = mail_settings(tmp_path, port)
    bad_hour(server_storage)
    report = check_alerts(server_storage, settings, NOW)
    assert [(a.site, a.service, a.expressed, a.unhappy) for a in report.decided] == [
        (SITE, SERVICE, 9, 5)
    ]
    assert (report.delivered, report.failed) == (1, [])
    [mail] = sink.mails
    assert sink.envelopes == [
        ("qualite@ville.example", ["qualite@ville.example", "iris@ville.example"])
    ]
    assert mail["Subject"] == (
        "Alerte satisfaction : IRIS – guichet unique – Centre administratif municipal"
    )
    body = mail.get_content()
    assert "Entre 10/03/2025 10:00 et 10/03/2025 11:00 (heure locale)" in body
    assert "5 des 9 réponses exprimées" in body
    assert "mécontentes : 55,6 %" in body
    assert "Seuil d'alerte : 40 % de réponses mécontentes, sur au moins 5" in body
    assert "https://qualite.ville.example/service/iris" in body.split()
    assert "Pas d'autre alerte pour ce guichet avant 10/03/2025 12:00." in body
    assert "Martin" not in body  # counts only, never a comment
    assert "06 12" not in body
    [row] = alert_history(server_storage)
    assert (row.channel, row.attempts, row.error) == ("email", 1, None)
    assert NOW < row.sent_at < NOW + MINUTE  # when delivered, after the check began
    assert mail["Message-ID"] == f"<{row.delivery_key}@ville.example>"
    assert (row.alert.window_start, row.alert.window_end) == (NOW - HOUR, NOW)

    # The desk stays bad: no second mail while the window overlaps the one reported…
    answers(server_storage, ["very_dissatisfied"] * 5, NOW + MINUTE)
    for minutes in (1, 2, 30, 59):
        assert check_alerts(server_storage, settings, NOW + minutes * MINUTE).decided == []
    assert len(sink.mails) == 1
    # …and one once the window has fully moved on, about the new hour only.
    answers(server_storage, ["satisfied"] * 3, NOW + 10 * MINUTE)
    later = check_alerts(server_storage, settings, NOW + HOUR)
    assert [(a.expressed, a.unhappy) for a in later.decided] == [(8, 5)]
    assert len(sink.mails) == 2


def test_english_text_when_asked(tmp_path, smtp, server_storage):
    sink, port = smtp
    bad_hour(server_storage)
    check_alerts(server_storage, mail_settings(tmp_path, port, alert_language="en"), NOW)
    [mail] = sink.mails
    assert mail["Subject"] == (
        "Satisfaction alert: IRIS – guichet unique – Centre administratif municipal"
    )
    assert "5 of the 9 answers expressed" in mail.get_content()
    assert "unhappy: 55.6 %" in mail.get_content()


def test_no_mail_below_the_minimum_count(tmp_path, smtp, server_storage):
    sink, port = smtp
    settings = mail_settings(tmp_path, port)
    # Four unhappy answers, and "no opinion" and suspect presses do not make up the minimum.
    answers(server_storage, ["very_dissatisfied"] * 4, NOW - 20 * MINUTE)
    answers(server_storage, ["no_opinion"] * 3, NOW - 20 * MINUTE)
    answers(server_storage, ["dissatisfied"] * 3, NOW - 20 * MINUTE, suspect=True)
    assert check_alerts(server_storage, settings, NOW).decided == []
    answers(server_storage, ["satisfied"], NOW - 10 * MINUTE)  # the fifth: 4 of 5
    assert len(check_alerts(server_storage, settings, NOW).decided) == 1
    assert len(sink.mails) == 1


def test_no_mail_below_the_threshold(tmp_path, smtp, server_storage):
    sink, port = smtp
    settings = mail_settings(tmp_path, port)
    answers(server_storage, ["dissatisfied"] * 3 + ["satisfied"] * 5, NOW - 20 * MINUTE)
    assert check_alerts(server_storage, settings, NOW).decided == []  # 37.5 %
    assert sink.mails == []
    answers(server_storage, ["very_dissatisfied"], NOW - 10 * MINUTE)  # 4 of 9: 44 %
    assert len(check_alerts(server_storage, settings, NOW).decided) == 1
    assert len(sink.mails) == 1


def test_webhook_gets_the_counts_as_json(tmp_path, webhook, server_storage):
    settings = server_settings_for(
        tmp_path,
        alerts_enabled=True,
        alert_webhook_url=f"{webhook.url}/hooks/qualite",
        alert_min_answers=5,
    )
    bad_hour(server_storage)
    report = check_alerts(server_storage, settings, NOW)
    assert report.delivered == 1
    [(method, path, body)] = webhook.requests
    assert (method, path) == ("POST", "/hooks/qualite")
    payload = json.loads(body)
    assert {k: payload[k] for k in ("site", "service", "expressed", "unhappy")} == {
        "site": SITE, "service": SERVICE, "expressed": 9, "unhappy": 5
    }  # fmt: skip
    assert payload["window_start"] == "2025-03-10T09:00:00+00:00"
    assert payload["window_end"] == "2025-03-10T10:00:00+00:00"
    assert payload["share_percent"] == 55.6
    assert payload["url"] == "http://127.0.0.1:8000/service/iris"
    assert payload["text"].startswith("Alerte satisfaction : IRIS")
    [row] = alert_history(server_storage)
    assert payload["idempotency_key"] == row.delivery_key
    assert webhook.headers[0]["Idempotency-Key"] == row.delivery_key
    assert "Martin" not in body.decode()
    check_alerts(server_storage, settings, NOW + 5 * MINUTE)
    assert len(webhook.requests) == 1


def test_smtp_down_is_recorded_and_the_next_check_delivers(tmp_path, server_storage, caplog):
    port = free_port()  # nothing listens there yet
    settings = mail_settings(tmp_path, port)
    bad_hour(server_storage)
    with caplog.at_level(logging.WARNING, logger="sync_server.alerts.delivery"):
        report = check_alerts(server_storage, settings, NOW)
    assert (len(report.decided), report.delivered, len(report.failed)) == (1, 0, 1)
    assert "not delivered" in caplog.text
    [row] = alert_history(server_storage)
    assert row.sent_at is None
    assert row.error.startswith("SMTP 127.0.0.1:")
    sink, controller = start_sink(port)
    try:
        retry = check_alerts(server_storage, settings, NOW + MINUTE)
    finally:
        controller.stop()
    assert (retry.decided, retry.delivered) == ([], 1)
    [mail] = sink.mails
    assert "5 des 9 réponses" in mail.get_content()  # the alert as decided, not recounted
    [row] = alert_history(server_storage)
    assert (row.attempts, row.error) == (2, None)
    assert NOW + MINUTE < row.sent_at < NOW + 2 * MINUTE


def test_an_alert_a_day_old_is_no_longer_tried(tmp_path, server_storage):
    port = free_port()
    settings = mail_settings(tmp_path, port)
    bad_hour(server_storage)
    assert len(check_alerts(server_storage, settings, NOW).failed) == 1
    sink, controller = start_sink(port)
    try:
        late = check_alerts(server_storage, settings, NOW + timedelta(days=1, minutes=1))
    finally:
        controller.stop()
    assert (late.delivered, late.failed, sink.mails) == (0, [], [])
    [row] = alert_history(server_storage)
    assert (row.sent_at, row.attempts) == (None, 1)
    assert row.error is not None


def test_a_failing_webhook_is_tried_once_per_check(tmp_path, server_storage):
    status = [500]
    stub = Stub(lambda handler, _body: send(handler, status[0], b"{}"))
    try:
        settings = server_settings_for(
            tmp_path, alerts_enabled=True, alert_webhook_url=stub.url, alert_min_answers=5
        )
        bad_hour(server_storage)
        assert check_alerts(server_storage, settings, NOW).failed == [
            f"webhook {SITE}/{SERVICE}: webhook: HTTP 500"
        ]
        # A second check at the same moment (another runner) does not try it again.
        assert check_alerts(server_storage, settings, NOW + timedelta(seconds=5)).failed == []
        assert len(stub.requests) == 1
        status[0] = 200
        assert check_alerts(server_storage, settings, NOW + MINUTE).delivered == 1
        assert len(stub.requests) == 2
        assert NOW + MINUTE < alert_history(server_storage)[0].sent_at < NOW + 2 * MINUTE
    finally:
        stub.close()


def test_login_to_the_smtp_server(tmp_path, server_storage):
    seen = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret-relay", handled=False)

    port = free_port()
    sink, controller = start_sink(port, authenticator=authenticator, auth_require_tls=False)
    try:
        bad_hour(server_storage)
        wrong = mail_settings(
            tmp_path, port, alert_smtp_username="kiosque", alert_smtp_password="wrong"
        )
        failed = check_alerts(server_storage, wrong, NOW)
        assert "wrong" not in failed.failed[0]  # no password in what is recorded
        right = mail_settings(
            tmp_path, port, alert_smtp_username="kiosque", alert_smtp_password="s3cret-relay"
        )
        assert check_alerts(server_storage, right, NOW + MINUTE).delivered == 1
    finally:
        controller.stop()
    # smtplib tries each mechanism the server offers before giving up on a wrong password.
    assert seen[0] == (b"kiosque", b"wrong")
    assert seen[-1] == (b"kiosque", b"s3cret-relay")
    assert len(sink.mails) == 1


def test_disabled_by_default_nothing_is_sent(tmp_path, smtp, server_storage):
    sink, port = smtp
    settings = mail_settings(tmp_path, port, alerts_enabled=False)
    assert server_settings_for(tmp_path).alerts_enabled is False
    bad_hour(server_storage)
    assert check_alerts(server_storage, settings, NOW).decided == []
    assert sink.mails == []
    assert alert_history(server_storage) == []


def test_settings_refuse_alerts_with_nowhere_to_send(tmp_path):
    with pytest.raises(ValidationError, match="QV_ALERT_SMTP_HOST"):
        server_settings_for(tmp_path, alerts_enabled=True)
    with pytest.raises(ValidationError, match="QV_ALERT_MAIL_TO"):
        server_settings_for(tmp_path, alert_smtp_host="smtp.example", alert_mail_from="a@b.fr")


def test_cli_check_alerts(tmp_path, smtp, server_storage, monkeypatch):
    sink, port = smtp
    settings = mail_settings(tmp_path, port)
    for name, value in settings.model_dump(exclude={"database_url"}).items():
        if value not in (None, ()):
            monkeypatch.setenv(f"QV_{name.upper()}", str(value))
    now = datetime.now(UTC)
    bad_hour(server_storage, end=now)
    url = settings.database_url
    out = io.StringIO()
    assert cli.main(["--database-url", url, "check-alerts"], out) == 0
    assert out.getvalue() == (
        f"alert: {SITE}/{SERVICE} 5 unhappy of 9 answers\ndelivered: 1, failed: 0\n"
    )
    assert len(sink.mails) == 1
    again = io.StringIO()
    assert cli.main(["--database-url", url, "check-alerts"], again) == 0
    assert again.getvalue() == "delivered: 0, failed: 0\n"
    monkeypatch.setenv("QV_ALERTS_ENABLED", "false")
    off = io.StringIO()
    assert cli.main(["--database-url", url, "check-alerts"], off) == 0
    assert "alerts are disabled" in off.getvalue()
    assert len(sink.mails) == 1


def test_cli_check_alerts_fails_when_a_delivery_fails(tmp_path, server_storage, monkeypatch):
    monkeypatch.setenv("QV_ALERTS_ENABLED", "true")
    monkeypatch.setenv("QV_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{free_port()}/down")
    monkeypatch.setenv("QV_ALERT_MIN_ANSWERS", "5")
    bad_hour(server_storage, end=datetime.now(UTC))
    out = io.StringIO()
    assert cli.main(["--database-url", str(server_storage.engine.url), "check-alerts"], out) == 1
    assert "not delivered: webhook" in out.getvalue()


def test_the_loop_step_checks_and_never_raises(tmp_path, webhook, server_storage, caplog):
    settings = server_settings_for(
        tmp_path, alerts_enabled=True, alert_webhook_url=webhook.url, alert_min_answers=5
    )
    bad_hour(server_storage)
    report = alert_step(server_storage, settings, NOW)
    assert report is not None
    assert report.delivered == 1
    # A database the step cannot read (never migrated): logged, and the loop goes on.
    empty = Storage.from_url(f"sqlite:///{tmp_path / 'empty.db'}")
    with caplog.at_level(logging.ERROR, logger="sync_server.alerts.delivery"):
        assert alert_step(empty, settings, NOW) is None
    assert "alert check failed" in caplog.text
    empty.close()


def test_the_server_checks_at_start_up_and_stops_cleanly(tmp_path, webhook, server_storage):
    settings = server_settings_for(
        tmp_path, alerts_enabled=True, alert_webhook_url=webhook.url, alert_min_answers=5,
        alert_check_seconds=3600,
    )  # fmt: skip
    bad_hour(server_storage, end=datetime.now(UTC))
    with TestClient(create_app(settings, server_storage)) as client:
        assert client.get("/login").status_code == 200  # serving while the loop runs
    # Shutting down waits for the check under way: it ran once, and the loop has ended.
    assert len(webhook.requests) == 1
    assert alert_history(server_storage)[0].sent_at is not None
    with TestClient(create_app(server_settings_for(tmp_path), server_storage)):
        pass
    assert len(webhook.requests) == 1


def test_the_loop_ends_when_told(tmp_path, server_storage):
    settings = server_settings_for(tmp_path)  # disabled: the step does nothing
    stop = asyncio.Event()
    stop.set()

    async def run() -> None:
        from sync_server.alerts.delivery import alert_loop

        await asyncio.wait_for(alert_loop(server_storage, settings, stop), timeout=30)

    asyncio.run(run())
