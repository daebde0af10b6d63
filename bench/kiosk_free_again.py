"""How soon the kiosk is free for the next visitor, measured on the real app.

    .venv/bin/python bench/kiosk_free_again.py [--runs 5] [--step 0.05]

The real `KioskApp` runs in an offscreen Kivy window on a real `KioskStore` in a temporary
folder, with the settings a kiosk gets by default. Touches go through Kivy's hit-testing; time
is Kivy's own clock, moved forward in steps of `--step` seconds between frames (no sleeping), so
the figures are the app's own timers and screen changes, whatever the machine's speed:

- walk-away: a visitor taps the main question and leaves; seconds from that tap until the
  attract screen is back (target: 10 s);
- completed: a visitor answers the kiosk's follow-up; seconds from that last tap until the
  attract screen is back (target: 6 s).

A person sees a screen before tapping it, so each tap waits for its screen to settle (0.4 s).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ.update(KIVY_NO_ARGS="1", KIVY_NO_CONFIG="1", KIVY_NO_FILELOG="1")
os.environ.update(KIVY_NO_CONSOLELOG="1")
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")

WALK_AWAY_TARGET = 10.0
COMPLETED_TARGET = 6.0
GIVE_UP_SECONDS = 120.0


class KivyTime:
    """Kivy's clock with a hand on it: `advance` moves it on at once, then runs one frame."""

    def __init__(self) -> None:
        from kivy.clock import Clock

        self.offset = 0.0
        real_time = Clock.time
        Clock.time = lambda: real_time() + self.offset

    @staticmethod
    def now() -> float:
        from kivy.clock import Clock

        return Clock.get_time()

    def advance(self, seconds: float) -> None:
        from kivy.base import EventLoop

        self.offset += seconds
        EventLoop.idle()


def tap(time: KivyTime, widget) -> float:
    """Touch `widget` once its screen has settled; the time of the touch on Kivy's clock."""
    from kivy.base import EventLoop
    from kivy.tests.common import UnitTestTouch

    screen = widget
    while screen is not None and not hasattr(screen, "settle_left"):
        screen = None if screen.parent is screen else screen.parent
    while screen is not None and screen.settle_left() > 0:
        time.advance(0.05)
    for _ in range(3):
        EventLoop.idle()
    touch = UnitTestTouch(*widget.to_window(*widget.center))
    at = time.now()
    touch.touch_down()
    touch.touch_up()
    return at


def until_attract(time: KivyTime, app, since: float, step: float) -> float:
    while app.manager.current != "attract":
        if time.now() - since > GIVE_UP_SECONDS:
            return float("inf")
        time.advance(step)
    return time.now() - since


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--step", type=float, default=0.05, help="clock step between frames (s)")
    args = parser.parse_args(argv)

    from kivy.base import EventLoop
    from kivy.config import Config

    Config.set("graphics", "width", "1280")
    Config.set("graphics", "height", "800")
    EventLoop.ensure_window()
    window = EventLoop.window

    from kiosk.app import KioskApp
    from kiosk.core.clock import SystemClock
    from kiosk.core.store import KioskStore
    from kiosk.core.visitor import DeskConfig, VisitorSession
    from qualivilles.bundled import load_default_survey

    time = KivyTime()
    survey = load_default_survey()
    desk = DeskConfig(survey=survey, phone_survey_url="http://127.0.0.1:8000/s/site/desk")
    walk_away: list[float] = []
    completed: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, KioskStore(Path(tmp) / "kiosk.db") as store:
        app = KioskApp(VisitorSession(store, SystemClock(), desk), store=store)
        app.root = app.build()
        window.add_widget(app.root)
        app.dispatch("on_start")
        for _ in range(5):
            EventLoop.idle()

        def smiley(screen, choice_id: str):
            return next(w for w in screen.walk() if getattr(w, "choice_id", None) == choice_id)

        for _ in range(args.runs):
            tapped = tap(time, smiley(app.attract.ids.smileys, "satisfied"))
            walk_away.append(until_attract(time, app, tapped, args.step))
            tap(time, smiley(app.attract.ids.smileys, "very_satisfied"))
            last = tap(time, smiley(app.question.ids.choices, "satisfied"))
            completed.append(until_attract(time, app, last, args.step))
        app.dispatch("on_stop")
        window.remove_widget(app.root)
        statuses = [row["status"] for row in store.db.query("select status from responses")]

    settings = desk.settings
    print(f"kiosk free again: {args.runs} runs each, Kivy clock stepped by {args.step} s")
    print(
        f"  survey {survey.id} v{survey.version}: the kiosk asks "
        f"{', '.join(q.id for q in survey.kiosk_questions)}"
    )
    print(
        f"  settings: follow-up left alone {settings.follow_up_seconds} s, thank-you"
        f" {settings.thank_you_seconds} s, comment inactivity {settings.inactivity_timeout_seconds}"
        f" s + {settings.still_there_seconds} s prompt"
    )
    for name, samples, target in (
        ("walk-away: main tap -> attract", walk_away, WALK_AWAY_TARGET),
        ("completed: last tap -> attract", completed, COMPLETED_TARGET),
    ):
        worst = max(samples)
        verdict = "met" if worst <= target else "NOT met"
        print(
            f"  {name:<32} min {min(samples):5.2f} s  max {worst:5.2f} s"
            f"   target {target:4.1f} s -> {verdict}"
        )
    print(
        f"  responses stored: {statuses.count('partial')} partial, "
        f"{statuses.count('complete')} complete, {statuses.count('open')} open"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
