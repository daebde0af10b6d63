"""The staff side in the real Kivy window: hidden corner, PIN keypad, lockout, staff screen.

The screens are wired in a small App the way `kiosk/app.py` wires them, on a real store file;
touches go through the window's hit-testing and time moves by pumping frames (Kivy's clock)
or by advancing the kiosk's `ManualClock` (the PIN lockout's monotonic clock).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.core.clock import ManualClock
from kiosk.core.device_state import Credentials, SyncStatus
from kiosk.core.staff_access import StaffAccess, save_local_pin
from kiosk.core.staff_status import staff_status
from kiosk.core.store import KioskStore
from kiosk.core.visitor import DeskConfig, VisitorSession
from qualivilles.bundled import load_default_survey
from tests.fixtures.kiosk import forget_kv_app, pump, pump_until, tap
from tests.fixtures.settling import double_tap, settled_tap
from tests.tools.staff_screens import kv_app

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[1]
PIN = "4821"


@dataclass
class StaffUI:
    manager: object
    corner: object
    pin: object
    staff: object
    store: KioskStore
    clock: ManualClock
    events: list[str] = field(default_factory=list)

    def key(self, label: str):
        return next(k for k in self.pin.ids.keypad.children if k.text == label)

    def type_pin(self, pin: str) -> None:
        for digit in pin:
            tap(self.key(digit))
        tap(self.pin.ok_key)


def _elapsed(seconds: float):
    """A condition for `pump_until`: true once Kivy's clock has moved `seconds` on."""
    from kivy.clock import Clock

    start = Clock.get_boottime()
    return lambda: Clock.get_boottime() - start >= seconds


@pytest.fixture
def clock():
    return ManualClock(datetime(2026, 10, 14, 12, 30, tzinfo=UTC))


@pytest.fixture
def store(tmp_path, clock):
    with KioskStore(tmp_path / "kiosk.db", clock) as opened:
        save_local_pin(opened, PIN)
        yield opened


@pytest.fixture
def desk():
    return DeskConfig(survey=load_default_survey())


@pytest.fixture
def ui(kivy_window, store, clock, desk):
    from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

    from kiosk.screens.pin import PinScreen
    from kiosk.screens.staff import StaffScreen
    from kiosk.widgets.hidden_corner import HiddenCorner

    app = kv_app(store, desk)  # what the kv rules read as `app`
    manager = ScreenManager(transition=NoTransition())
    attract = Screen(name="attract")
    corner = HiddenCorner(pos_hint={"x": 0, "top": 1}, hold_seconds=0.3)
    attract.add_widget(corner)
    pin = PinScreen(name="pin", access=StaffAccess(store))
    staff = StaffScreen(
        name="staff", status_source=lambda: staff_status(store, desk), refresh_seconds=0.1
    )
    for screen in (attract, pin, staff):
        manager.add_widget(screen)
    built = StaffUI(manager, corner, pin, staff, store, clock)

    def go(name: str, event: str | None = None):
        def handler(*_: object) -> None:
            if event:
                built.events.append(event)
            if name:
                manager.current = name

        return handler

    # The wiring kiosk/app.py does (see the hand-over notes).
    corner.bind(on_long_press=go("pin"))
    pin.bind(on_unlocked=go("staff"), on_cancel=go("attract"))
    staff.bind(on_close=go("attract"), on_sync_now=go("", "sync_now"), on_exit=go("", "exit"))
    kivy_window.add_widget(manager)
    pump(3)
    yield built
    manager.current = "attract"  # leaving cancels the screens' timers
    pump(2)
    kivy_window.remove_widget(manager)
    del app
    forget_kv_app()


def _touch_at_corner(ui):
    from kivy.tests.common import UnitTestTouch

    x, y = ui.corner.to_window(*ui.corner.center)
    return UnitTestTouch(x, y)


# --- the hidden corner ----------------------------------------------------------------------


def test_holding_the_hidden_corner_opens_the_pin_screen(ui):
    assert ui.corner.width >= 60  # about 80 px: findable by staff, out of a visitor's way
    touch = _touch_at_corner(ui)
    touch.touch_down()
    pump(2)
    assert ui.manager.current == "attract"
    assert pump_until(lambda: ui.manager.current == "pin")
    touch.touch_up()
    pump(2)
    assert ui.manager.current == "pin"


def test_a_short_press_does_not_open_the_pin_screen(ui):
    touch = _touch_at_corner(ui)
    touch.touch_down()
    pump(2)
    touch.touch_up()
    pump_until(_elapsed(0.7))
    assert ui.manager.current == "attract"


def test_sliding_out_of_the_corner_cancels_the_press(ui):
    touch = _touch_at_corner(ui)
    touch.touch_down()
    pump(2)
    touch.touch_move(400, 400)
    pump_until(_elapsed(0.7))
    assert ui.manager.current == "attract"
    touch.touch_up()
    pump(2)


# --- the PIN screen -------------------------------------------------------------------------


def test_the_right_pin_typed_on_the_keypad_unlocks_and_the_digits_stay_hidden(ui):
    ui.manager.current = "pin"
    pump(3)
    for digit in PIN[:3]:
        tap(ui.key(digit))
    assert ui.pin.ids.dots.filled == 3
    assert all(PIN[:3] not in w.text for w in ui.pin.walk() if hasattr(w, "text"))
    tap(ui.key(PIN[3]))
    tap(ui.pin.ok_key)
    assert ui.manager.current == "staff"


def test_erase_and_a_too_short_pin(ui):
    ui.manager.current = "pin"
    pump(3)
    tap(ui.key("4"))
    tap(ui.key("9"))
    tap(ui.pin.erase_key)
    assert ui.pin.digits == "4"
    tap(ui.pin.ok_key)
    assert ui.pin.ids.message.text == "Le code compte au moins 4 chiffres."
    assert ui.pin.access.free_attempts_left() == 3  # not counted as a wrong PIN


def test_three_wrong_pins_lock_the_keypad_with_a_countdown_and_refuse_the_right_pin(ui):
    ui.manager.current = "pin"
    pump(3)
    ui.type_pin("1111")
    assert ui.pin.ids.message.text == "Code incorrect. Encore 2 essai(s)."
    ui.type_pin("2222")
    ui.type_pin("3333")
    assert ui.pin.locked
    assert ui.pin.ids.message.text == "Trop d'essais. Vous pourrez réessayer dans 30 s."
    assert ui.key("4").disabled
    assert ui.pin.ok_key.disabled

    ui.type_pin(PIN)  # disabled keys: nothing registers
    assert (ui.manager.current, ui.pin.digits) == ("pin", "")
    ui.pin.digits = PIN  # and even a PIN that reached the screen is not checked while locked
    ui.pin.submit()
    assert ui.manager.current == "pin"

    ui.clock.advance(10)
    assert pump_until(lambda: "20 s" in ui.pin.ids.message.text)
    ui.manager.current = "attract"  # closing and reopening the screen does not reset it
    pump(2)
    ui.manager.current = "pin"
    pump(3)
    assert ui.pin.locked
    assert "20 s" in ui.pin.ids.message.text

    ui.clock.advance(20)
    assert pump_until(lambda: not ui.pin.locked)
    assert ui.pin.ids.message.text == ""
    ui.type_pin(PIN)
    assert ui.manager.current == "staff"


def test_cancel_and_inactivity_go_back_to_the_visitors(ui):
    ui.manager.current = "pin"
    pump(3)
    tap(ui.pin.ids.cancel)
    assert ui.manager.current == "attract"
    ui.pin.idle_seconds = 0.3
    ui.manager.current = "pin"
    pump(3)
    tap(ui.key("1"))
    assert pump_until(lambda: ui.manager.current == "attract")
    assert ui.pin.digits == ""


# --- the staff screen -----------------------------------------------------------------------


def _failed_sync(store, clock, desk):
    store.save_credentials(
        Credentials(
            server_url="https://avis.example.fr",
            device_id="borne-iris-01",
            token="t",
            site="mairie",
            service="iris",
        )
    )
    for choice in ("satisfied", "very_dissatisfied"):
        session = VisitorSession(store, clock, desk)
        session.tap_main(choice, "fr")
        session.finish()
        clock.advance(30)
    store.save_sync_status(
        SyncStatus(
            last_sync_at=clock.now() - timedelta(hours=1),
            last_error="no route to host",
            last_error_code="server_unreachable",
            clock_offset_ms=62 * 60_000 + 4_000,
            consecutive_failures=3,
        )
    )


def test_the_staff_screen_shows_the_stores_backlog_and_last_error_and_syncs_on_request(
    ui, store, clock, desk
):
    _failed_sync(store, clock, desk)
    ui.manager.current = "pin"
    pump(3)
    ui.type_pin(PIN)
    staff = ui.staff
    assert staff.value_of("device") == "borne-iris-01"
    assert staff.value_of("desk") == "mairie – iris"
    assert staff.value_of("server") == "https://avis.example.fr"
    assert staff.value_of("backlog") == "2"
    assert staff.value_of("held") == "0"
    assert staff.value_of("last_error") == (
        "Serveur injoignable : pas de réseau ou serveur arrêté. (server_unreachable)"
    )
    assert staff.value_of("clock") == "+1 h 02 min (la borne retarde)"
    assert staff.value_of("survey") == f"{desk.survey.id} (version {desk.survey.version})"

    settled_tap(staff.ids.sync_now)
    assert ui.events == ["sync_now"]
    assert staff.ids.notice.text == "Synchronisation demandée…"
    # The worker's pass lands in the store; the screen picks it up by itself.
    store.apply_acks([])
    store.db.execute("DELETE FROM outbox")
    store.save_sync_status(SyncStatus(last_sync_at=clock.now(), clock_offset_ms=300))
    assert pump_until(lambda: staff.value_of("backlog") == "0")
    assert staff.value_of("last_error") == "aucune"
    assert staff.value_of("clock") == "à l'heure"


def test_exit_to_the_desktop_needs_a_confirmation(ui):
    ui.manager.current = "staff"
    pump(3)
    staff = ui.staff
    settled_tap(staff.ids.exit)
    assert staff.confirming_exit
    assert ui.events == []
    assert staff.ids.notice.text.startswith("Quitter l'application ?")
    settled_tap(staff.ids.exit_cancel)
    assert not staff.confirming_exit
    settled_tap(staff.ids.exit)
    settled_tap(staff.ids.exit_confirm)
    assert ui.events == ["exit"]


def test_a_double_tap_on_exit_never_quits(ui):
    ui.manager.current = "staff"
    pump(3)
    staff = ui.staff
    settled_tap(staff.ids.sync_now)  # settled, as staff who read the screen first
    ui.events.clear()
    double_tap(staff.ids.exit)
    assert staff.confirming_exit
    assert ui.events == []
    # The confirmation is away from the button that asked for it: where the finger was,
    # a slower second tap cancels, it never quits.
    pump(3)
    x, y = staff.ids.exit.to_window(*staff.ids.exit.center)
    confirm = staff.ids.exit_confirm
    assert not confirm.collide_point(*confirm.to_widget(x, y))
    cancel = staff.ids.exit_cancel
    assert cancel.collide_point(*cancel.to_widget(x, y))


def _report(ok: bool, backlog: int):
    from kiosk.core.sync import SyncReport

    at = datetime(2026, 10, 14, 8, 42, tzinfo=UTC)  # 10:42 in Paris
    if ok:
        return SyncReport(started_at=at, finished_at=at, backlog=backlog)
    return SyncReport(
        started_at=at,
        finished_at=at,
        backlog=backlog,
        error="no route to host",
        error_kind="server_unreachable",
        error_code="server_unreachable",
    )


def test_sync_now_shows_how_the_pass_went(ui):
    ui.manager.current = "staff"
    pump(3)
    staff = ui.staff
    staff.show_sync_report(_report(ok=True, backlog=5))  # a pass nobody asked for: no notice
    assert staff.ids.notice.text == ""
    settled_tap(staff.ids.sync_now)
    assert staff.ids.notice.text == "Synchronisation demandée…"
    staff.show_sync_report(_report(ok=False, backlog=2))
    assert staff.ids.notice.text == (
        "Échec de la synchronisation à 10:42 : Serveur injoignable : pas de réseau ou serveur "
        "arrêté. (server_unreachable)"
    )
    settled_tap(staff.ids.sync_now)
    staff.show_sync_report(_report(ok=True, backlog=0))
    assert staff.ids.notice.text == "Synchronisé à 10:42, 0 en attente"


def test_the_staff_screen_names_the_device(ui, store):
    from kiosk.core.device_state import CachedConfig

    store.save_credentials(
        Credentials(
            server_url="https://avis.example.fr",
            device_id="6f1c2a9e-0d3b-4f7a-9c8e-5b2d1e0f4a63",
            token="t",
            site="mairie",
            service="iris",
            device_name="Borne hall d'accueil",
        )
    )
    ui.manager.current = "staff"
    pump(3)
    assert ui.staff.value_of("device") == "Borne hall d'accueil"  # from the enrolment
    store.save_config(CachedConfig({"device": {"name": "Borne IRIS 1"}}, None))
    ui.staff.refresh()
    assert ui.staff.value_of("device") == "Borne IRIS 1"  # the configuration's, once received
    assert ui.staff.value_of("device_id") == "6f1c2a9e-0d3b-4f7a-9c8e-5b2d1e0f4a63"


def test_back_to_the_survey_and_inactivity_close_the_staff_screen(ui):
    ui.manager.current = "staff"
    pump(3)
    settled_tap(ui.staff.ids.close)
    assert ui.manager.current == "attract"
    ui.staff.idle_seconds = 0.3
    ui.manager.current = "staff"
    pump(3)
    assert pump_until(lambda: ui.manager.current == "attract")


def test_the_development_pin_is_flagged_on_the_staff_screen(ui, store):
    store.db.execute("DELETE FROM settings WHERE key = 'staff_pin_hash'")
    store.db.conn.commit()
    ui.manager.current = "pin"
    pump(3)
    ui.type_pin("0000")
    assert ui.manager.current == "staff"
    assert "0000" in ui.staff.ids.pin_warning.text


@pytest.mark.parametrize("size", ["1280x800", "800x1280"])
def test_the_staff_screens_render_in_both_orientations(size, tmp_path):
    """Each orientation in a fresh process (see tests/tools/staff_screens.py)."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.tools.staff_screens", size, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    shots = sorted(p.name for p in tmp_path.glob("kiosk-*.png"))
    orientation = "landscape" if size == "1280x800" else "portrait"
    assert shots == [f"kiosk-pin-{orientation}.png", f"kiosk-staff-{orientation}.png"]
    width, height = (int(n) for n in size.split("x"))
    for name in shots:
        header = (tmp_path / name).read_bytes()[:24]
        assert int.from_bytes(header[16:20], "big") == width
        assert int.from_bytes(header[20:24], "big") == height
