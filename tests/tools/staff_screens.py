"""Render the staff PIN and staff screens to PNG at one window size, in a process of its own.

    python -m tests.tools.staff_screens 1280x800 docs/screens

Like tests/tools/kiosk_screens.py: one process per orientation (the offscreen window keeps its
first shape). The screens run on a real store in a temporary folder, reached by real touches.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.tools.window import open_window, orientation

DEMO_CONFIG = {
    "device": {"name": "Borne hall d'accueil"},
    "site": {"name": "Centre administratif municipal"},
    "service": {"name": "IRIS – guichet unique"},
}


def demo_store(folder: Path):
    """A kiosk store as staff would find it: enrolled, answers waiting, the server unreachable."""
    from kiosk.core.clock import ManualClock
    from kiosk.core.device_state import CachedConfig, Credentials, SyncStatus
    from kiosk.core.store import KioskStore

    clock = ManualClock(datetime(2026, 10, 14, 12, 30, tzinfo=UTC))
    store = KioskStore(folder / "kiosk.db", clock)
    store.save_credentials(
        Credentials(
            server_url="https://avis.ville-exemple.fr",
            device_id="6f1c2a9e-0d3b-4f7a-9c8e-5b2d1e0f4a63",
            token="secret",
            site="centre-administratif",
            service="iris",
        )
    )
    store.save_config(CachedConfig(DEMO_CONFIG, None))
    for _ in range(3):
        response = store.start_response("qualivilles-accueil", 1, "fr")
        store.record_answer(response, "overall", "satisfied")
        store.seal_response(response, "complete")
    store.save_sync_status(
        SyncStatus(
            last_sync_at=clock.now() - timedelta(hours=2, minutes=5),
            last_attempt_at=clock.now() - timedelta(minutes=1),
            last_error="HTTPSConnectionPool: Max retries exceeded",
            last_error_code="server_unreachable",
            clock_offset_ms=62 * 60 * 1000 + 4000,
            consecutive_failures=4,
        )
    )
    return store


def kv_app(store, desk):
    """The kiosk's own App, not built: the kv rules read their `app.<property>` from it."""
    from kiosk.app import KioskApp
    from kiosk.core.visitor import VisitorSession

    return KioskApp(VisitorSession(store, store.clock, desk))


def main(size: str, out_dir: Path) -> list[Path]:
    window = open_window(size)

    from kivy.uix.screenmanager import NoTransition, ScreenManager

    from kiosk.core.staff_access import StaffAccess, save_local_pin
    from kiosk.core.staff_status import staff_status
    from kiosk.core.visitor import DeskConfig
    from kiosk.screens.pin import PinScreen
    from kiosk.screens.staff import StaffScreen
    from qualivilles.bundled import load_default_survey
    from tests.fixtures.kiosk import pump, screenshot, tap

    side = orientation(size)
    desk = DeskConfig(survey=load_default_survey())
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        store = demo_store(Path(tmp))
        app = kv_app(store, desk)  # the kv rules' `app`
        save_local_pin(store, "4821")
        manager = ScreenManager(transition=NoTransition())
        pin = PinScreen(name="pin", access=StaffAccess(store))
        staff = StaffScreen(name="staff", status_source=lambda: staff_status(store, desk))
        manager.add_widget(pin)
        manager.add_widget(staff)
        window.add_widget(manager)
        pump(5)

        def key(label: str):
            return next(k for k in pin.ids.keypad.children if k.text == label)

        for digit in "1111":  # a wrong PIN first: the calm message and the tries left show
            tap(key(digit))
        tap(pin.ok_key)
        tap(key("4"))
        tap(key("8"))
        written.append(screenshot(window, out_dir / f"kiosk-pin-{side}.png"))
        manager.current = "staff"
        pump(5)
        written.append(screenshot(window, out_dir / f"kiosk-staff-{side}.png"))
        window.remove_widget(manager)
        store.close()
        del app
    return written


if __name__ == "__main__":
    for path in main(sys.argv[1], Path(sys.argv[2])):
        print(path)
