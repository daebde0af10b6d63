"""The real `kiosk` command, run on an X display for tests that drive it with real X events.

    DISPLAY=:N python -m tests.tools.x_driven_app PROBE -- --data-dir DIR [kiosk options]

It runs `kiosk.cli.main` unchanged and adds one thing the product does not have: a probe. Every
50 ms it writes to PROBE (atomically, only when something changed) what a person would see: the
current screen, every visible button and label with its text and its rectangle in X screen
coordinates (origin top left), and whether any of Kivy's own panels (settings, inspector,
console) is open. The test reads the probe to know where to click and what happened; the
clicks and keys themselves are real X events (xdotool), through SDL and Kivy's input providers.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

INTERNAL_PANELS = ("Settings", "SettingsWithSidebar", "SettingsWithSpinner", "Inspector")


def _visible(widget: Any) -> bool:
    """Not hidden by an opacity of 0, its own or an ancestor's."""
    node = widget
    while node is not None and node is not node.parent:
        if getattr(node, "opacity", 1) == 0:
            return False
        node = node.parent
    return True


def _describe(widget: Any, window_height: float) -> dict[str, Any]:
    x, y = widget.to_window(widget.x, widget.y)
    text = getattr(widget, "text", "")
    return {
        "kind": type(widget).__name__,
        "id": getattr(widget, "probe_id", None) or _kv_id(widget),
        "text": text if isinstance(text, str) else "",
        "x": round(x),
        "y": round(window_height - y - widget.height),
        "width": round(widget.width),
        "height": round(widget.height),
        "disabled": bool(getattr(widget, "disabled", False)),
        # What a choice button answers (`choice_id`, or `value` on yes/no and 0-10 scales).
        "choice": _choice(widget),
    }


def _choice(widget: Any) -> str | None:
    for name in ("choice_id", "value"):
        value = getattr(widget, name, None)
        if value is not None and not callable(value):
            return str(value)
    return None


def _kv_id(widget: Any) -> str | None:
    parent = widget.parent
    while parent is not None and parent is not parent.parent:
        for name, found in getattr(parent, "ids", {}).items():
            if getattr(found, "__self__", found) is widget:  # ids hold weak proxies
                return name
        parent = parent.parent
    return None


def snapshot() -> dict[str, Any]:
    from kivy.app import App
    from kivy.core.window import Window
    from kivy.uix.button import ButtonBehavior
    from kivy.uix.label import Label
    from kivy.uix.screenmanager import ScreenManager

    app = App.get_running_app()
    height = Window.height
    settled = True
    widgets: list[dict[str, Any]] = []
    panels: list[str] = []
    screen = None
    stack = list(Window.children)
    while stack:
        widget = stack.pop()
        name = type(widget).__name__
        if name in INTERNAL_PANELS or any(
            base.__name__ in INTERNAL_PANELS for base in type(widget).__mro__
        ):
            panels.append(name)
        if isinstance(widget, ScreenManager):
            screen = screen or widget.current
            current = widget.current_screen
            settled = settled and _settled(current)
            stack.extend([current] if current is not None else [])
            continue
        if not _visible(widget):
            continue
        if isinstance(widget, ButtonBehavior | Label):
            widgets.append(_describe(widget, height))
        stack.extend(widget.children)
    return {
        "screen": screen,
        "widgets": widgets,
        "panels": sorted(panels),
        "settings_open": bool(
            app and getattr(app, "_app_settings", None) and app._app_settings.parent
        ),
        "window": [Window.width, Window.height],
        "running": app is not None,
        "touches": _touches["up"],
        # Whether the current screen takes taps again (see kiosk/core/tap_guard.py).
        "settled": settled,
    }


def _settled(screen: Any) -> bool:
    from kivy.clock import Clock

    from kiosk.core.tap_guard import settled

    shown_at = getattr(screen, "_shown_at", None)
    return settled(shown_at, Clock.get_time(), getattr(screen, "settle_seconds", 0))


# Every touch that ended, swallowed or not: a test knows its clicks were all processed.
_touches = {"up": 0}


def _count_touch(*_: Any) -> None:
    from kivy.clock import Clock

    # Counted on the next frame: bound callbacks run before the app handles the touch.
    Clock.schedule_once(lambda _dt: _touches.update(up=_touches["up"] + 1))


def _start_probe(path: Path) -> None:
    """Write the snapshot once it has stayed the same for two ticks: a layout in progress (every
    widget still at its default place) is never reported. A screen that stops taking taps is
    reported at the next tick."""
    from kivy.clock import Clock

    state = {"written": "", "candidate": "", "ticks": 0}

    def write(_dt: float) -> None:
        try:
            text = json.dumps(snapshot(), ensure_ascii=False, sort_keys=True)
        except Exception as error:  # the probe must never stop the app under test
            text = json.dumps({"error": repr(error)})
        state["ticks"] = state["ticks"] + 1 if text == state["candidate"] else 0
        state["candidate"] = text
        # A screen that stops taking taps (shown again, its content changed) is said at once: a
        # test must not tap on the word of a snapshot that was true a moment ago.
        unsettled = '"settled": false' in text and '"settled": true' in state["written"]
        if (state["ticks"] >= 2 or unsettled) and text != state["written"]:
            temporary = path.with_suffix(".tmp")
            temporary.write_text(text, encoding="utf-8")
            os.replace(temporary, path)
            state["written"] = text

    Clock.schedule_interval(write, 0.05)
    from kivy.core.window import Window

    Window.bind(on_touch_up=_count_touch)


def main(argv: list[str]) -> int:
    probe, separator, *kiosk_args = argv
    assert separator == "--", "usage: x_driven_app PROBE -- KIOSK-ARGS"
    from kiosk import cli

    original = cli._prepare_kivy

    def prepare_then_probe(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        from kivy.config import Config

        # The window at the screen's top left corner, so X and window coordinates agree.
        Config.set("graphics", "position", "custom")
        Config.set("graphics", "left", "0")
        Config.set("graphics", "top", "0")
        _start_probe(Path(probe))

    cli._prepare_kivy = prepare_then_probe
    return cli.main(kiosk_args)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
