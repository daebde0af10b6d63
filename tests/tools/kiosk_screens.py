"""Render every kiosk screen to PNG at one window size, in a process of its own.

    python -m tests.tools.kiosk_screens 1280x800 docs/screens

The offscreen window cannot be resized reliably once created (the framebuffer keeps its first
shape), so each orientation gets a fresh process whose window is created at the right size.
The app runs on a real store in a temporary folder; the screens are reached by real touches.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def main(size: str, out_dir: Path) -> list[Path]:
    os.environ.update(KIVY_NO_ARGS="1", KIVY_NO_CONFIG="1", KIVY_NO_FILELOG="1",
                      KIVY_NO_CONSOLELOG="1")
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    from kivy.config import Config

    width, height = size.split("x")
    Config.set("graphics", "width", width)
    Config.set("graphics", "height", height)
    from kivy.base import EventLoop

    EventLoop.ensure_window()
    window = EventLoop.window

    from kiosk.app import KioskApp
    from kiosk.core.clock import SystemClock
    from kiosk.core.store import KioskStore
    from kiosk.core.survey import load_default_survey
    from kiosk.core.visitor import DeskConfig, VisitorSession
    from tests.fixtures.kiosk import screenshot, tap

    desk = DeskConfig(
        survey=load_default_survey(),
        phone_survey_url="http://127.0.0.1:8000/s/centre-administratif/iris",
        published_results={"period": "2026-10", "satisfaction_rate": 92.4, "answers": 48,
                           "target": 90},
        desk_name="IRIS – guichet unique – Centre administratif municipal",
    )
    orientation = "landscape" if int(width) >= int(height) else "portrait"
    written = []
    with tempfile.TemporaryDirectory() as tmp, KioskStore(Path(tmp) / "k.db") as store:
        app = KioskApp(VisitorSession(store, SystemClock(), desk))
        root = app.build()
        app.root = root
        window.add_widget(root)
        app.dispatch("on_start")

        def shot(name: str) -> None:
            written.append(screenshot(window, out_dir / f"kiosk-{name}-{orientation}.png"))

        shot("attract")
        smiley = next(w for w in app.attract.ids.smileys.children
                      if w.choice_id == "dissatisfied")
        tap(smiley)
        shot("why-unhappy")
        tap(app.question.ids.skip)
        shot("follow-up")
        tap(app.question.ids.finish)
        shot("thanks")
        app.dispatch("on_stop")
    return written


if __name__ == "__main__":
    for path in main(sys.argv[1], Path(sys.argv[2])):
        print(path)
