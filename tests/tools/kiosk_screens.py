"""Render every visitor screen of the kiosk to PNG at one window size, in a process of its own.

    python -m tests.tools.kiosk_screens 1280x800 docs/screens

The offscreen window cannot be resized reliably once created (the framebuffer keeps its first
shape), so each orientation gets a fresh process whose window is created at the right size.
The app runs on a real store in a temporary folder; the screens are reached by real touches.
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.tools.window import open_window, orientation

SHOTS = (
    "attract",
    "why-unhappy",
    "follow-up",
    "comment",
    "still-there",
    "thanks",
    "accessibility-low-mode",
    "large-text",
    "arabic",
    "closed",
)


def main(size: str, out_dir: Path) -> list[Path]:
    window = open_window(size)

    from kiosk.app import KioskApp
    from kiosk.core.clock import SystemClock
    from kiosk.core.rtl import display_lines
    from kiosk.core.store import KioskStore
    from kiosk.core.visitor import DeskConfig, KioskSettings, VisitorSession
    from qualivilles.bundled import load_default_survey
    from qualivilles.device_config import PublishedResults
    from tests.fixtures.kiosk import pump, screenshot, tap

    hours = {day: [["08:30", "12:00"], ["13:30", "17:30"]] for day in ("mon", "tue", "wed")}
    desk = DeskConfig(
        survey=load_default_survey(),
        settings=KioskSettings(
            languages=("fr", "en", "es", "ar"),
            opening_hours=hours,
            # Long: the prompt is opened on purpose below, never by a
            # slow machine in the middle of the taps.
            follow_up_seconds=600,
            inactivity_timeout_seconds=600,
            still_there_seconds=30,
        ),
        phone_survey_url="http://127.0.0.1:8000/s/centre-administratif/iris",
        published_results=PublishedResults(
            period="2026-10", satisfaction_rate=92.4, answers=48, target=90
        ),
        desk_name="IRIS – guichet unique – Centre administratif municipal",
    )
    paris = ZoneInfo("Europe/Paris")
    now = {"value": datetime(2026, 11, 30, 10, 0, tzinfo=paris)}  # a Monday morning: open
    side = orientation(size)
    written = []
    with tempfile.TemporaryDirectory() as tmp, KioskStore(Path(tmp) / "k.db") as store:
        app = KioskApp(
            VisitorSession(store, SystemClock(), desk), store=store, clock=lambda: now["value"]
        )
        root = app.build()
        app.root = root
        window.add_widget(root)
        app.dispatch("on_start")

        def shot(name: str) -> None:
            assert name in SHOTS, name
            written.append(screenshot(window, out_dir / f"kiosk-{name}-{side}.png"))

        def smiley(screen_widget, choice_id: str):
            return next(
                w for w in screen_widget.walk() if getattr(w, "choice_id", None) == choice_id
            )

        def question_is(prefix: str) -> bool:
            return app.question.ids.question.text.startswith(prefix)

        shot("attract")
        tap(smiley(app.attract.ids.smileys, "dissatisfied"))
        tap(
            next(
                w
                for w in app.question.ids.choices.walk()
                if getattr(w, "choice_id", None) == "waiting"
            )
        )
        shot("why-unhappy")
        tap(app.question.ids.confirm)
        shot("follow-up")
        tap(smiley(app.question.ids.choices, "satisfied"))
        shot("thanks")

        # A town whose kiosk also takes comments (the default survey leaves them to the phone).
        questions = [
            q.model_copy(update={"kiosk": True}) if q.id == "comment" else q
            for q in desk.survey.questions
        ]
        survey = desk.survey.model_copy(update={"questions": questions})
        app.session.offer_config(dataclasses.replace(desk, survey=survey))
        app.back_to_attract()
        pump(2)
        tap(smiley(app.attract.ids.smileys, "satisfied"))
        tap(app.question.ids.skip)
        assert question_is("Un commentaire")
        for key in "merci pour l'accueil":
            tap(app.question.keyboard.keys[key])
        shot("comment")
        app._on_inactive()  # what the inactivity timer does for a visitor who types
        pump(3)
        shot("still-there")
        tap(app.prompt.ids.stay)
        tap(app.question.ids.confirm)

        app.back_to_attract()
        pump(2)
        tap(app.attract.ids.accessibility)
        tap(app.attract.ids.low_mode)
        shot("accessibility-low-mode")
        app.back_to_attract()
        pump(2)
        tap(app.attract.ids.accessibility)
        tap(app.attract.ids.large_text)
        tap(app.attract.ids.accessibility)  # panel folded again: the visitor goes on
        shot("large-text")
        app.back_to_attract()
        pump(2)
        arabic = display_lines("العربية", "ar")
        tap(next(w for w in app.attract.ids.languages.children if w.text == arabic))
        shot("arabic")
        app.back_to_attract()
        now["value"] = datetime(2026, 11, 30, 12, 30, tzinfo=paris)  # lunch break: closed
        app.check_opening_hours()
        shot("closed")
        app.dispatch("on_stop")
    return written


if __name__ == "__main__":
    for path in main(sys.argv[1], Path(sys.argv[2])):
        print(path)
