"""The agent tablet under a real finger: double taps, buttons that never move, a long queue,
the ticket shown to the visitor, reason chips, and the staff PIN. Real window, real store,
touches through hit-testing, a manual device clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from kiosk.core.agent_desk import AgentDesk, VisitReason
from kiosk.core.clock import ManualClock
from kiosk.core.device_state import CachedConfig, Credentials
from kiosk.core.staff_access import save_local_pin
from kiosk.core.store import KioskStore
from kiosk.core.wait_queue import WaitQueue
from tests.fixtures.kiosk import pump, pump_until, tap
from tests.fixtures.settling import double_tap, is_settled, settled_tap

pytestmark = pytest.mark.gui

PARIS = ZoneInfo("Europe/Paris")
PIN = "4821"
REASONS = (
    VisitReason("passeport", "Passeport / CNI"),
    VisitReason("renouvellement", "Renouvellement"),
    VisitReason("stationnement", "Stationnement résidentiel"),
    VisitReason("inscription", "Inscription scolaire"),
)
DESK = AgentDesk(
    desk_name="IRIS – guichet unique",
    wait_threshold_minutes=10,
    reasons=REASONS,
    public_base_url="https://avis.ville.example",
)
LINKING = Credentials(
    server_url="https://avis.ville.example",
    device_id="tablet-1",
    token="t" * 30,
    site="centre-administratif",
    service="iris",
    mode="tablet",
    visit_link_secret="a-test-visit-link-secret-of-enough-length",
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

    def start(**kwargs):
        return run_app(AgentApp(WaitQueue(store, clock), desk=DESK, **kwargs))

    return start


def _row(app, index: int):
    return app.queue_screen.rows[app.queue.waiting()[index].id]


def _arrivals(app, count: int) -> None:
    for _ in range(count):
        settled_tap(app.queue_screen.ids.arrived)


def test_a_double_tap_on_take_in_charge_takes_one_visitor(agent):
    app = agent()
    _arrivals(app, 3)
    double_tap(_row(app, 0).ids.take)
    assert [v.ticket for v in app.queue.waiting()] == ["A-002", "A-003"]
    # Once the list has settled, the next visitor is taken by a deliberate tap.
    settled_tap(_row(app, 0).ids.take)
    assert [v.ticket for v in app.queue.waiting()] == ["A-003"]


def test_a_double_tap_on_visitor_arrived_records_one_arrival(agent):
    app = agent()
    assert pump_until(lambda: is_settled(app.queue_screen))
    double_tap(app.queue_screen.ids.arrived)
    assert [v.ticket for v in app.queue.waiting()] == ["A-001"]


def test_row_buttons_stay_put_when_the_undo_goes_away(agent, clock):
    app = agent()
    _arrivals(app, 1)
    row = _row(app, 0)
    assert row.ids.undo.opacity == 1
    pump(3)
    before = {
        name: tuple(row.ids[name].to_window(*row.ids[name].pos)) for name in ("take", "walk_out")
    }
    widths = {name: row.ids[name].width for name in ("take", "walk_out")}
    clock.advance(11)
    assert pump_until(lambda: row.ids.undo.opacity == 0)
    pump(3)
    after = {
        name: tuple(row.ids[name].to_window(*row.ids[name].pos)) for name in ("take", "walk_out")
    }
    assert after == before
    assert {name: row.ids[name].width for name in ("take", "walk_out")} == widths
    # Where the undo was, a tap does nothing (it is no "take in charge" in disguise).
    settled_tap(row.ids.undo)
    assert [v.ticket for v in app.queue.waiting()] == ["A-001"]


def test_the_action_bar_buttons_stay_put_when_its_undo_goes_away(agent, clock):

    app = agent(credentials=lambda: LINKING)
    screen = app.queue_screen
    _arrivals(app, 1)
    settled_tap(_row(app, 0).ids.take)
    assert (screen.ids.last_undo.opacity, screen.ids.last_qr.opacity) == (1, 1)
    pump(3)
    qr_before = tuple(screen.ids.last_qr.to_window(*screen.ids.last_qr.pos))
    clock.advance(11)
    assert pump_until(lambda: screen.ids.last_undo.opacity == 0)
    pump(3)
    assert tuple(screen.ids.last_qr.to_window(*screen.ids.last_qr.pos)) == qr_before


def test_a_reason_chosen_after_the_arrival_is_that_visitors(agent, store):
    app = agent()
    screen = app.queue_screen
    _arrivals(app, 1)
    settled_tap(next(c for c in screen.ids.reasons.children if c.reason == "renouvellement"))
    _arrivals(app, 1)
    first, second = app.queue.waiting()
    assert (first.reason, second.reason) == ("renouvellement", None)
    assert _row(app, 0).ids.reason.text == "Renouvellement"
    # The chips now belong to A-002; a tap there never reaches back to A-001.
    settled_tap(next(c for c in screen.ids.reasons.children if c.reason == "passeport"))
    first, second = app.queue.waiting()
    assert (first.reason, second.reason) == ("renouvellement", "passeport")


def test_the_visitor_reads_their_ticket_number_large(agent):
    app = agent()
    card = app.queue_screen.ids.ticket_card
    assert card.ticket == ""
    _arrivals(app, 1)
    pump(3)
    assert card.ticket == "A-001"
    number = card.ids.number
    assert number.text == "A-001"
    # Readable across a desk: digits about 1 cm tall on a 10-inch tablet (about 150 px/inch).
    assert number.font_size >= 60
    assert number.texture_size[0] <= number.width  # the whole number, never cut
    settled_tap(_row(app, 0).ids.take)
    assert card.ticket == ""  # served: the card waits for the next visitor


def test_arrivals_beyond_the_screen_scroll_into_view(agent):
    from kivy.tests.common import UnitTestTouch

    app = agent()
    screen = app.queue_screen
    _arrivals(app, 8)
    pump(5)
    scroller = _row(app, 7).parent.parent  # the list's ScrollView
    newest = _row(app, 7)
    view_bottom = scroller.to_window(scroller.x, scroller.y)[1]
    view_top = view_bottom + scroller.height
    bottom = newest.to_window(newest.x, newest.y)[1]
    assert view_bottom - 1 <= bottom
    assert bottom + newest.height <= view_top + 1
    # A finger dragging the list down brings the first visitor back, starting on a button.
    first = _row(app, 0)
    assert first.to_window(first.x, first.y)[1] > view_top  # out of view above
    assert pump_until(lambda: is_settled(screen))
    start = newest.ids.take.to_window(*newest.ids.take.center)
    touch = UnitTestTouch(*start)
    touch.touch_down()
    for step in range(1, 16):
        touch.touch_move(start[0], start[1] - step * 40)
        pump(1)
    touch.touch_up()
    pump(5)
    assert first.to_window(first.x, first.y)[1] < view_top
    assert len(app.queue.waiting()) == 8  # the drag took nobody in charge


def test_reason_chips_never_cut_a_word(agent):
    app = agent()
    _arrivals(app, 1)
    pump(5)
    chips = list(app.queue_screen.ids.reasons.children)
    assert len(chips) == len(REASONS)
    for chip in chips:
        chip.texture_update()
        lines = [" ".join(w.text for w in line.words) for line in chip._label._cached_lines]
        assert " ".join(lines).split() == chip.text.split(), lines
        assert chip.texture_size[0] <= chip.width
        assert chip.right <= app.queue_screen.ids.reasons.right + 1


# --- the staff side ---------------------------------------------------------------------------


def _enrol(store: KioskStore) -> None:
    store.save_credentials(
        Credentials(
            server_url="https://avis.ville.example",
            device_id="0b6f3f7e-8d7c-4c5e-9a51-2f0d4c1e9b77",
            token="t" * 30,
            site="centre-administratif",
            service="iris",
            mode="tablet",
        )
    )
    store.save_config(
        CachedConfig(
            {"device": {"name": "Tablette accueil IRIS"}, "site": {"name": "Mairie"}}, None
        )
    )
    save_local_pin(store, PIN)


def test_the_tablet_has_the_kiosks_staff_pin_and_staff_screen(agent, store):
    _enrol(store)
    app = agent(store=store)
    app.corner.hold_seconds = 0.3
    from kivy.tests.common import UnitTestTouch

    assert pump_until(lambda: is_settled(app.queue_screen))
    touch = UnitTestTouch(*app.corner.to_window(*app.corner.center))
    touch.touch_down()
    assert pump_until(lambda: app.manager.current == "pin")
    touch.touch_up()
    pump(2)
    keys = {k.text: k for k in app.pin.ids.keypad.children}
    for digit in "1111":
        tap(keys[digit])
    tap(app.pin.ok_key)
    assert app.manager.current == "pin"
    assert app.pin.ids.message.text == "Code incorrect. Encore 2 essai(s)."
    for digit in PIN:
        tap(keys[digit])
    tap(app.pin.ok_key)
    assert app.manager.current == "staff"
    assert app.staff.value_of("device") == "Tablette accueil IRIS"
    assert app.staff._labels["device"].text == "Tablette"
    assert app.staff.value_of("device_id") == "0b6f3f7e-8d7c-4c5e-9a51-2f0d4c1e9b77"
    assert app.staff.value_of("survey") == "aucun (tablette d'accueil)"
    assert app.staff.ids.close.text == "Retour à la file"
    settled_tap(app.staff.ids.close)
    assert app.manager.current == "agent_queue"


def test_a_tap_on_the_tablets_hidden_corner_is_not_an_arrival(agent, store):
    _enrol(store)
    app = agent(store=store)
    settled_tap(app.corner)
    assert app.manager.current == "agent_queue"
    assert app.queue.waiting() == []
