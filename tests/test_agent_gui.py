"""The agent tablet's real window (offscreen or Xvfb), driven by touches, on a real store file,
with a manual device clock: elapsed times, threshold mark, undo, summary, QR, kill and restart."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kiosk.core.agent_desk import AgentDesk, VisitReason
from kiosk.core.clock import ManualClock
from kiosk.core.device_state import Credentials
from kiosk.core.store import KioskStore
from kiosk.core.wait_queue import WaitQueue
from qualivilles.visit_link import read_claims, signature_matches
from tests.fixtures.kiosk import pump, pump_until
from tests.fixtures.settling import settled_tap as tap

pytestmark = pytest.mark.gui

PARIS = ZoneInfo("Europe/Paris")
DESK = AgentDesk(
    desk_name="IRIS – guichet unique – Centre administratif municipal",
    wait_threshold_minutes=10,
    reasons=(
        VisitReason("passeport", "Passeport / CNI"),
        VisitReason("etat-civil", "Acte"),
        VisitReason("inscription", "Inscription scolaire"),
    ),
    opening_hours={"mon": [["08:30", "12:00"], ["13:30", "17:30"]]},
    public_base_url="https://avis.ville.example",
)
SECRET = "a-test-visit-link-secret-of-enough-length"
CREDENTIALS = Credentials(
    server_url="https://avis.ville.example",
    device_id="tablet-1",
    token="t" * 30,
    site="centre-administratif",
    service="iris",
    mode="tablet",
    visit_link_secret=SECRET,
)


@pytest.fixture
def clock():
    return ManualClock(start=datetime(2026, 3, 2, 9, 0, tzinfo=PARIS))


@pytest.fixture
def store(tmp_path, clock):
    with KioskStore(tmp_path / "tablet.db", clock) as opened:
        yield opened


@pytest.fixture
def agent(store, clock, run_app):
    from kiosk.agent_app import AgentApp

    def start(target_store=None):
        queue = WaitQueue(target_store or store, clock)
        return run_app(AgentApp(queue, desk=DESK, credentials=lambda: CREDENTIALS))

    return start


def _rows(app):
    return [app.queue_screen.rows[v.id] for v in app.queue.waiting()]


def _chip(app, label):
    return next(w for w in app.queue_screen.ids.reasons.children if w.text == label)


def _events(store) -> list[dict]:
    rows = store.db.query("SELECT payload FROM outbox WHERE kind = 'visit_event' ORDER BY seq")
    return [json.loads(r["payload"]) for r in rows]


def test_visitor_arrived_with_a_reason_chip_is_listed_and_durable(agent, store):
    app = agent()
    screen = app.queue_screen
    assert screen.ids.arrived.text == "Visiteur arrivé"
    assert screen.ids.empty.text == "Personne n'attend"
    assert _chip(app, "Passeport / CNI").disabled  # a reason is the visitor's: none yet
    tap(screen.ids.arrived)
    assert screen.ids.reasons_title.text == "Motif de A-001 (facultatif)"
    tap(_chip(app, "Passeport / CNI"))  # the visitor says why, once arrived
    tap(screen.ids.arrived)
    [first, second] = _rows(app)
    assert (first.ids.ticket.text, second.ids.ticket.text) == ("A-001", "A-002")
    assert first.ids.reason.text == "Passeport / CNI"
    assert second.ids.reason.text == ""  # the chip was for the visitor just arrived only
    assert _chip(app, "Passeport / CNI").state == "normal"
    assert [(e["event"], e["reason"]) for e in _events(store)] == [
        ("arrived", None),
        ("arrived", "passeport"),
        ("arrived", None),
    ]
    assert screen.ids.empty.text == "2 en attente"


def test_elapsed_time_ticks_and_a_long_wait_gets_a_colour_and_a_word(agent, clock):
    app = agent()
    tap(app.queue_screen.ids.arrived)
    [row] = _rows(app)
    assert row.ids.elapsed.text == "0 min 00 s"
    clock.advance(65)
    assert pump_until(lambda: row.ids.elapsed.text == "1 min 05 s")  # the 1 s interval ticks
    assert (row.over_threshold, row.ids.mark.text) == (False, "")
    clock.advance(9 * 60)
    assert pump_until(lambda: row.over_threshold)
    assert row.ids.mark.text == "Attente longue"
    assert row.ids.elapsed.text == "10 min 05 s"


def test_take_in_charge_then_undo_from_the_action_bar(agent, clock, store):
    app = agent()
    screen = app.queue_screen
    tap(screen.ids.arrived)
    clock.advance(180)
    [row] = _rows(app)
    tap(row.ids.take)
    assert _rows(app) == []
    assert screen.ids.last_action.text == "A-001 pris en charge"
    assert screen.ids.last_undo.opacity == 1
    assert screen.ids.last_undo.text == "Annuler (10 s)"
    clock.advance(3)
    tap(screen.ids.last_undo)
    [row] = _rows(app)
    assert row.ids.ticket.text == "A-001"
    events = _events(store)
    assert [e["event"] for e in events] == ["arrived", "taken_in_charge", "cancelled"]
    assert events[1]["wait_seconds"] == 180.0
    # Nothing was deleted: the undo names the event it takes back.
    assert events[2]["cancels"] is not None


def test_walk_out_and_the_undo_window_closes(agent, clock):
    app = agent()
    screen = app.queue_screen
    tap(screen.ids.arrived)
    [row] = _rows(app)
    assert row.ids.undo.opacity == 1  # a mistaken arrival can be taken back for 10 s
    clock.advance(11)
    assert pump_until(lambda: row.ids.undo.opacity == 0)
    tap(row.ids.walk_out)
    assert screen.ids.last_action.text == "A-001 parti sans être servi"
    clock.advance(11)
    assert pump_until(lambda: screen.ids.last_undo.opacity == 0)
    assert screen.ids.last_undo.disabled


def test_the_day_summary(agent, clock):
    app = agent()
    screen = app.queue_screen
    for _ in range(3):
        tap(screen.ids.arrived)
    clock.advance(4 * 60)
    tap(_rows(app)[0].ids.take)
    clock.advance(8 * 60)  # 12 min: over the 10-minute threshold
    tap(_rows(app)[0].ids.take)
    tap(_rows(app)[0].ids.walk_out)
    tap(screen.ids.summary)
    assert app.manager.current == "agent_summary"
    values = dict((key, value) for key, _, value in app.summary_screen.rows)
    assert values["visitors"] == "3"
    assert values["served"] == "2"
    assert values["mean"] == "8 min 00 s"
    assert values["max"] == "12 min 00 s"
    assert values["within"] == "50 %"
    assert values["walked_out"] == "1"
    tap(app.summary_screen.ids.back)
    assert app.manager.current == "agent_queue"


def test_a_served_visit_shows_its_signed_qr_link(agent, clock):
    app = agent()
    screen = app.queue_screen
    tap(screen.ids.arrived)
    assert screen.ids.last_qr.opacity == 0  # not before the visit is taken in charge
    visit_id = app.queue.waiting()[0].id
    tap(_rows(app)[0].ids.take)
    tap(screen.ids.last_qr)
    assert app.manager.current == "agent_qr"
    url = app.qr_screen.ids.qr.data
    prefix = "https://avis.ville.example/v/"
    assert url.startswith(prefix)
    claims, body, signature = read_claims(url.removeprefix(prefix))
    assert (claims.visit_id, claims.device_id) == (visit_id, "tablet-1")
    assert signature_matches(SECRET, body, signature)
    tap(app.qr_screen.ids.back)
    assert app.manager.current == "agent_queue"


def test_killed_with_visits_waiting_the_list_comes_back_with_correct_times(
    agent, clock, tmp_path, kivy_window
):
    path = tmp_path / "killed.db"
    first_store = KioskStore(path, clock)
    app = agent(first_store)
    tap(app.queue_screen.ids.arrived)
    clock.advance(120)
    tap(app.queue_screen.ids.arrived)
    clock.advance(30)
    # Killed: no on_stop, nothing saved on the way out; the store is simply gone.
    for event in app._events:
        event.cancel()
    kivy_window.remove_widget(app.root)
    first_store.close()
    clock.advance(60)
    with KioskStore(path, clock) as reopened:
        again = agent(reopened)
        rows = _rows(again)
        assert [r.ids.ticket.text for r in rows] == ["A-001", "A-002"]
        assert [r.ids.elapsed.text for r in rows] == ["3 min 30 s", "1 min 30 s"]
        tap(rows[0].ids.take)
        assert again.queue.visit(again.queue.visits()[0].id).wait_seconds == 210.0
        again.dispatch("on_stop")
        kivy_window.remove_widget(again.root)
    pump(1)


def test_after_a_reboot_the_elapsed_time_is_marked_as_estimated(
    agent, clock, tmp_path, kivy_window
):
    path = tmp_path / "rebooted.db"
    first_store = KioskStore(path, clock)
    app = agent(first_store)
    tap(app.queue_screen.ids.arrived)
    app.dispatch("on_stop")
    kivy_window.remove_widget(app.root)
    first_store.close()
    clock.advance(200)
    clock.reboot()
    with KioskStore(path, clock) as reopened:
        again = agent(reopened)
        [row] = _rows(again)
        assert row.ids.elapsed.text == "environ 3 min 20 s"
        again.dispatch("on_stop")
        kivy_window.remove_widget(again.root)


def test_closing_time_closes_the_waiting_visits_as_unknown(agent, clock, store):
    app = agent()
    tap(app.queue_screen.ids.arrived)
    clock.set_wall_time(datetime(2026, 3, 2, 17, 45, tzinfo=PARIS))
    app.check_closing()
    pump(2)
    assert _rows(app) == []
    assert app.queue_screen.ids.last_action.text == "A-001 clos à la fermeture"
    assert [e["event"] for e in _events(store)] == ["arrived", "closed_unknown"]


@pytest.mark.parametrize("size", ["1280x800", "800x1280"])
def test_every_agent_screen_renders_in_both_orientations(size, tmp_path):
    """Each orientation in a fresh process (see tests/tools/agent_screens.py)."""
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-m", "tests.tools.agent_screens", size, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    from tests.tools.agent_screens import SHOTS

    orientation = "landscape" if size == "1280x800" else "portrait"
    shots = sorted(tmp_path.glob("agent-*.png"))
    assert sorted(p.name for p in shots) == sorted(f"agent-{s}-{orientation}.png" for s in SHOTS)
    width, height = (int(n) for n in size.split("x"))
    for shot in shots:
        header = shot.read_bytes()[:24]
        assert int.from_bytes(header[16:20], "big") == width
        assert int.from_bytes(header[20:24], "big") == height
