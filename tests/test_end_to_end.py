"""A visitor's tap travels from the real kiosk window to the quality manager's figure.

Real parts only: the Kivy app rendering offscreen, its SQLite store, its sync thread, the server
under uvicorn on a loopback port, and the indicators API behind the real login form.
"""

from __future__ import annotations

import queue
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from kiosk.core.clock import ManualClock
from kiosk.runtime import open_kiosk
from sync_server.storage import users
from tests.fixtures.kiosk import pump_until, tap

pytestmark = pytest.mark.gui

SITE, SERVICE = "centre-administratif", "iris"
VISITORS = ["very_satisfied", "satisfied", "satisfied", "very_satisfied", "dissatisfied"]
SATISFIED = {"satisfied", "very_satisfied"}


def _log_in(base_url: str) -> requests.Session:
    """Through the login form, CSRF token included, as a person would."""
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


@pytest.fixture
def clock():
    # A manual device clock: visitors a minute apart are not flagged as repeated presses.
    return ManualClock(start=datetime.now(UTC))


@pytest.fixture
def runtime(live_server, tmp_path, clock):
    """Opened before the app starts and closed after it stopped (fixture order matters)."""
    opened = open_kiosk(
        tmp_path / "kiosk",
        server_url=live_server.url,
        enrol_code=live_server.enrol(SITE, SERVICE),
        clock=clock,
        sync_interval=3600,
    )
    yield opened
    opened.close()


def test_taps_on_the_kiosk_reach_the_indicators(live_server, runtime, clock, run_app):
    from kiosk.app import KioskApp

    with live_server.storage.write() as connection:
        users.create(
            connection, username="qualite", password="a long test password", role="quality_manager"
        )
    reports: queue.Queue = queue.Queue()
    app = KioskApp(runtime.session, worker=runtime.worker, config_source=runtime.current_desk)
    runtime.reports.listeners += [app.on_sync_report, reports.put]
    run_app(app)

    first = reports.get(timeout=30)  # enrolment and configuration, on the worker thread
    assert first.ok, first.error
    phone_url = f"{live_server.url}/s/{SITE}/{SERVICE}"
    assert pump_until(lambda: app.attract.ids.qr.data == phone_url)

    for choice in VISITORS:
        smiley = next(w for w in app.attract.ids.smileys.children if w.choice_id == choice)
        tap(smiley)
        tap(app.question.ids.finish)
        assert app.manager.current == "thanks"
        app.back_to_attract()
        clock.advance(60)

    assert pump_until(lambda: runtime.store.backlog() == 0, max_frames=1200)

    month = clock.now().astimezone(ZoneInfo("Europe/Paris")).strftime("%Y-%m")
    answer = _log_in(live_server.url).get(
        f"{live_server.url}/api/v1/indicators",
        params={"from": month, "to": month, "site": SITE, "service": SERVICE},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    [row] = answer.json()["rows"]
    figures = row["figures"]
    satisfied = sum(choice in SATISFIED for choice in VISITORS)
    dissatisfied = len(VISITORS) - satisfied
    assert figures["answers"]["value"] == len(VISITORS)
    assert figures["satisfaction_rate"]["hidden"] is False
    assert figures["satisfaction_rate"]["value"] == pytest.approx(100 * satisfied / len(VISITORS))
    assert figures["net_satisfaction"]["value"] == pytest.approx(
        100 * (satisfied - dissatisfied) / len(VISITORS)
    )
