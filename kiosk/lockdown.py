"""Nothing of Kivy's own machinery opens on a kiosk or a tablet: no settings panel, no inspector.

Kivy gives every app developer shortcuts into its internals: F1 opens the settings panel (with
Fullscreen and Rotation toggles, in English, with no time-out), and its optional modules bind
more keys (`inspector` and `console`: Ctrl+E; `keybinding`: F11 rotates the window, F12 takes a
screenshot; `recorder`: F7/F8 replay and record input). A visitor with a keyboard, or a finger
on a tablet's hardware key, must reach none of them. Both apps inherit `LockedDownApp` and call
`lock_down(Window)` when they start.
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.config import Config
from kivy.modules import Modules

# Kivy key codes of F1 to F15: the settings panel, the keybinding and recorder modules.
FUNCTION_KEYS = frozenset(range(282, 297))
CTRL_E = 101  # with Ctrl: the inspector and the console modules

# Kivy widgets that only its own shortcuts put on the window (see `kivy_internals_open`).
INTERNAL_WIDGETS = ("Settings", "Inspector", "Console")


def _swallow_internal_keys(
    _window: Any, key: int, _scancode: int | None = None, _codepoint: Any = None, *rest: Any
) -> bool:
    modifiers = rest[0] if rest else []
    return key in FUNCTION_KEYS or (key == CTRL_E and "ctrl" in (modifiers or []))


def lock_down(window: Any) -> None:
    """Switch off every Kivy module on `window` (whatever the config file asked for) and take the
    keys that open Kivy's internals before any handler sees them. Safe to call again."""
    if Config.has_section("modules"):
        for name, _ in Config.items("modules"):
            Config.remove_option("modules", name)
    for name, module in Modules.list().items():
        if module.get("activated"):
            Modules.deactivate_module(name, window)
    # The last handler bound runs first: this one is bound after Kivy's and the modules'.
    window.unbind(on_keyboard=_swallow_internal_keys)
    window.bind(on_keyboard=_swallow_internal_keys)


def kivy_internals_open(window: Any) -> list[str]:
    """The names of Kivy's own panels on `window` ([] when locked down), for tests and support."""
    return [
        type(child).__name__
        for child in window.children
        if any(base.__name__ in INTERNAL_WIDGETS for base in type(child).__mro__)
    ]


class LockedDownApp(App):
    """An App whose settings panel never opens (F1 or any call)."""

    use_kivy_settings = False

    def open_settings(self, *_: object) -> bool:
        return False

    def _install_settings_keys(self, window: Any) -> None:
        # App.run() binds F1 to the settings panel here; lock the window down instead.
        lock_down(window)
