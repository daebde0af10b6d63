"""An agent's taps on the real tablet app reach the quality manager's wait indicators.

Real parts only: the Kivy agent app rendering offscreen, its SQLite store, its sync thread, the
server under uvicorn on a loopback port, the indicators API with a logged-in session, and the
per-visit link checked by the server's own verification.
"""

from __future__ import annotations

import queue
import statistics
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from kiosk.core.agent_desk import AgentDesk
from kiosk.core.clock import ManualClock
from kiosk.runtime import open_agent
from qualivilles.protocol import RecordKind
from qualivilles.visit_link import make_token
from sync_server.phone.visit_links import InvalidVisitLink, mark_visit_link_used, verify_visit_link
from sync_server.storage import Source, uploads
from sync_server.storage import visits as stored_visits
from tests.fixtures.kiosk import pump_until
from tests.fixtures.server import TOWN, answer_payload, make_record
from tests.fixtures.settling import settled_tap as tap
from tests.tools.projected import all_projected
from tests.tools.server_reads import stored_rows

pytestmark = pytest.mark.gui

SITE, SERVICE = "centre-administratif", "iris"
WAITS_MINUTES = [2, 3.5, 6, 9, 11, 14]  # one visitor after another
THRESHOLD = next(s for s in TOWN["services"] if s["slug"] == SERVICE)["wait_threshold_minutes"]


@pytest.fixture
def clock():
    return ManualClock(start=datetime.now(UTC))


@pytest.fixture
def runtime(live_server, tmp_path, clock):
    opened = open_agent(
        tmp_path / "tablet",
        server_url=live_server.url,
        enrol_code=live_server.enrol(SITE, SERVICE, mode="tablet"),
        clock=clock,
        sync_interval=3600,
    )
    yield opened
    opened.close()


def _server_visits(storage) -> list[tuple]:
    all_projected(storage)  # the server projects once it has replied
    return stored_rows(storage, "visits", "id", "outcome", "wait_seconds", order_by="arrived_at")


def test_visits_from_the_tablet_reach_the_wait_indicators(live_server, runtime, clock, run_app):
    from kiosk.agent_app import AgentApp

    reports: queue.Queue = queue.Queue()
    app = AgentApp(
        runtime.queue,
        desk=runtime.current_desk() or AgentDesk(),
        credentials=runtime.store.credentials,
        desk_source=runtime.current_desk,
        worker=runtime.worker,
    )
    runtime.reports.listeners += [app.on_sync_report, reports.put]
    run_app(app)
    first = reports.get(timeout=30)  # enrolment and configuration, on the worker thread
    assert first.ok, first.error
    assert pump_until(lambda: app.desk.public_base_url == live_server.url)
    assert app.desk.wait_threshold_minutes == THRESHOLD
    assert runtime.store.credentials().mode == "tablet"
    screen = app.queue_screen

    # The first visitor's arrival is uploaded before they are taken in charge.
    tap(screen.ids.arrived)
    assert pump_until(lambda: runtime.store.backlog() == 0, max_frames=1200)
    [(late_id, outcome, _)] = _server_visits(live_server.storage)
    assert outcome == "waiting"
    clock.advance(WAITS_MINUTES[0] * 60)
    tap(screen.rows[late_id].ids.take)
    for minutes in WAITS_MINUTES[1:]:
        tap(screen.ids.arrived)
        visit_id = app.queue.waiting()[0].id
        clock.advance(minutes * 60)
        tap(screen.rows[visit_id].ids.take)
    # Right after taking the visitor in charge, the agent shows the visit's QR code.
    qr_visit = app.last_visit_id
    tap(screen.ids.last_qr)
    assert app.manager.current == "agent_qr"
    url = app.qr_screen.ids.qr.data
    tap(app.qr_screen.ids.back)
    tap(screen.ids.arrived)
    clock.advance(60)
    tap(screen.rows[app.queue.waiting()[0].id].ids.walk_out)
    assert pump_until(lambda: runtime.store.backlog() == 0, max_frames=1200)

    visits = _server_visits(live_server.storage)
    assert len(visits) == len(WAITS_MINUTES) + 1  # the late "taken in charge" made no new visit
    assert dict((v[0], v[1:]) for v in visits)[late_id] == ("served", WAITS_MINUTES[0] * 60)

    month = clock.now().astimezone(ZoneInfo("Europe/Paris")).strftime("%Y-%m")
    session = live_server.login_session(requests.Session())
    answer = session.get(
        f"{live_server.url}/api/v1/indicators",
        params={"from": month, "to": month, "site": SITE, "service": SERVICE},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    [row] = answer.json()["rows"]
    figures = row["figures"]
    assert figures["visits"]["value"] == len(WAITS_MINUTES) + 1
    assert figures["median_wait_minutes"]["value"] == pytest.approx(
        statistics.median(WAITS_MINUTES)
    )
    within = sum(m <= THRESHOLD for m in WAITS_MINUTES) / len(WAITS_MINUTES)
    assert figures["within_threshold_rate"]["value"] == pytest.approx(100 * within)
    assert figures["walk_out_rate"]["value"] == pytest.approx(100 / (len(WAITS_MINUTES) + 1))
    assert figures["max_wait_minutes"]["value"] == pytest.approx(max(WAITS_MINUTES))

    # The per-visit link, made offline on the tablet, is checked by the server.
    assert url.startswith(f"{live_server.url}/v/")
    token = url.removeprefix(f"{live_server.url}/v/")
    now = datetime.now(UTC)
    link = verify_visit_link(live_server.storage, token, now)
    assert (link.visit_id, link.site, link.service) == (qr_visit, SITE, SERVICE)
    # The phone survey spends the link and stores the answer with the visit's id.
    mark_visit_link_used(live_server.storage, link.visit_id, now)
    phone = Source(site=link.site, service=link.service, channel="phone")
    uploads.store_batch(
        live_server.storage,
        [
            make_record(
                answer_payload("satisfied", channel="phone", visit_id=link.visit_id),
                kind=RecordKind.ANSWER,
            )
        ],
        phone,
    )
    start = datetime(2000, 1, 1, tzinfo=UTC)
    with live_server.storage.read() as connection:
        linked = stored_visits.linked_waits(connection, start, datetime(2100, 1, 1, tzinfo=UTC))
    assert linked[SITE, SERVICE] == [(WAITS_MINUTES[-1] * 60, 2, 4)]

    with pytest.raises(InvalidVisitLink) as reused:
        verify_visit_link(live_server.storage, token, now)
    assert reused.value.code == "used"
    forged = make_token("not the tablet's secret", qr_visit, link.device_id, now)
    with pytest.raises(InvalidVisitLink) as refused:
        verify_visit_link(live_server.storage, forged, now)
    assert refused.value.code == "forged"
