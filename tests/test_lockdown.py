"""Kivy's own panels and shortcuts stay shut in both modes: keys dispatched to the real window.

App.run() installs Kivy's F1 settings key through `_install_settings_keys(window)`; the test
apps are started without run(), so each test calls it as run() does. `kivy_internals_open`
is how any test (or support) checks that no Kivy panel is on screen.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from kiosk.core.agent_desk import AgentDesk
from kiosk.core.clock import ManualClock
from kiosk.core.store import KioskStore
from kiosk.core.wait_queue import WaitQueue
from kiosk.lockdown import kivy_internals_open, lock_down
from tests.fixtures.kiosk import pump

pytestmark = pytest.mark.gui

F1, F11, F12, E = 282, 292, 293, 101


@pytest.fixture(params=["kiosk", "tablet"])
def app(request, kiosk, tablet_app):
    return kiosk() if request.param == "kiosk" else tablet_app()


@pytest.fixture
def tablet_app(tmp_path, run_app):
    from kiosk.agent_app import AgentApp

    clock = ManualClock(start=datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/Paris")))
    stores = []

    def start():
        store = KioskStore(tmp_path / "tablet.db", clock)
        stores.append(store)
        return run_app(AgentApp(WaitQueue(store, clock), desk=AgentDesk()))

    yield start
    for store in stores:
        store.close()


def _activate(names: tuple[str, ...], window) -> None:
    """Switch Kivy modules on as a `[modules]` section of Kivy's config file would."""
    from kivy.config import Config
    from kivy.modules import Modules

    for name in names:
        Config.set("modules", name, "")
        Modules.activate_module(name, window)


def _deactivate(names: tuple[str, ...], window) -> None:
    from kivy.config import Config
    from kivy.modules import Modules

    for name in names:
        if Config.has_option("modules", name):
            Config.remove_option("modules", name)
        Modules.deactivate_module(name, window)


def _press(window, key: int, modifiers: list[str] | None = None) -> None:
    window.dispatch("on_key_down", key, 0, None, modifiers or [])
    window.dispatch("on_keyboard", key, 0, None, modifiers or [])
    window.dispatch("on_key_up", key, 0)
    pump(3)


def test_f1_opens_no_settings_panel(app, kivy_window):
    # What App.run() does once the window exists (the test apps are started without run()).
    app._app_window = kivy_window
    app._install_settings_keys(kivy_window)
    _press(kivy_window, F1)
    assert kivy_internals_open(kivy_window) == []
    assert app._app_settings is None
    assert app.open_settings() is False  # not by a call either
    assert kivy_internals_open(kivy_window) == []


def test_the_inspector_and_console_modules_are_switched_off(app, kivy_window):
    from kivy.modules import Modules

    _activate(("inspector", "console"), kivy_window)
    try:
        lock_down(kivy_window)
        _press(kivy_window, E, ["ctrl"])
        assert kivy_internals_open(kivy_window) == []
        assert not any(m.get("activated") for m in Modules.list().values())
    finally:
        _deactivate(("inspector", "console"), kivy_window)


def test_the_keybinding_module_neither_rotates_nor_screenshots(app, kivy_window, tmp_path):
    _activate(("keybinding",), kivy_window)
    try:
        lock_down(kivy_window)
        rotation, size = kivy_window.rotation, tuple(kivy_window.size)
        _press(kivy_window, F11)
        _press(kivy_window, F11, ["shift"])
        _press(kivy_window, F12)
        assert (kivy_window.rotation, tuple(kivy_window.size)) == (rotation, size)
    finally:
        _deactivate(("keybinding",), kivy_window)


def test_escape_does_not_close_either_mode(app, kivy_window):
    assert kivy_window.dispatch("on_request_close", source="keyboard") is True
    pump(2)
    assert app.root.parent is kivy_window
