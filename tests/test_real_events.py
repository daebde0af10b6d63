"""The kiosk and the tablet under Xvfb, driven with real X pointer and key events as visitors and
agents would: a visitor walking away, the next one, double taps, a child pressing once a second,
every key that could open Kivy's internals, and the Arabic order of every choice grid.

Each test runs the real `kiosk` command on a private display (`tests/fixtures/x_events.py`) and
reads what it recorded from its SQLite file."""

from __future__ import annotations

import itertools
import json
import re
import threading
from typing import Any

import pytest
import sqlite_utils

from qualivilles.bundled import load_default_survey
from qualivilles.device_config import KioskSettings
from qualivilles.survey import QuestionType
from tests.fixtures.x_events import DrivenApp, Snapshot, Widget

pytestmark = pytest.mark.gui

# Keys with a meaning to Kivy or to a desktop: settings panel, inspector, rotation, full screen,
# screenshots, console, closing, switching windows.
INTERNAL_KEYS = [
    "F1", "shift+F1", "ctrl+F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10", "F11",
    "F12", "shift+F12", "ctrl+e", "ctrl+shift+e", "ctrl+i", "ctrl+p", "ctrl+q", "ctrl+w",
    "ctrl+c", "ctrl+z", "alt+F4", "Escape", "Menu", "super", "alt+Tab", "ctrl+alt+Delete",
]  # fmt: skip
ARABIC = re.compile("[\u0600-\u06ff\ufb50-\ufdff\ufe70-\ufeff]")


def responses(app: DrivenApp) -> list[dict[str, Any]]:
    """The visitors' responses recorded by the device, oldest first."""
    rows = sqlite_utils.Database(app.data_dir / "kiosk.db")["responses"].rows
    found = [{**row, "answers": json.loads(row["answers"])} for row in rows]
    return sorted(found, key=lambda row: row["started_monotonic_ms"])


def visit_events(app: DrivenApp) -> list[dict[str, Any]]:
    return list(sqlite_utils.Database(app.data_dir / "kiosk.db")["visit_events"].rows)


def smiley(app: DrivenApp, choice_id: str, snapshot: Snapshot | None = None) -> Widget:
    """The main question's face for `choice_id` on the current screen."""
    found = [w for w in app.widgets(snapshot) if w.get("choice") == choice_id]
    assert found, f"no {choice_id!r} on screen {app.snapshot().get('screen')!r}"
    return found[0]


def touches_processed(app: DrivenApp, count: int) -> Snapshot:
    return app.wait_for(lambda s: s.get("touches", 0) >= count, what=f"{count} touches handled")


# The visitor's path ------------------------------------------------------------------------------


def test_a_visitor_who_walks_away_leaves_the_kiosk_to_the_next_one(driven_app):
    kiosk = driven_app()
    kiosk.wait_for_screen("attract")
    kiosk.tap(smiley(kiosk, "satisfied"))
    kiosk.wait_for_screen("question")
    # The first visitor leaves without touching anything: the kiosk is free again by itself,
    # without asking the next person whether they are "still there".
    kiosk.wait_for_screen("attract", timeout=20)
    kiosk.tap(smiley(kiosk, "very_satisfied"))
    kiosk.wait_for_screen("question")
    first, second = responses(kiosk)
    assert (first["status"], first["answers"]) == ("partial", {"overall": "satisfied"})
    assert second["answers"] == {"overall": "very_satisfied"}


def test_a_double_tap_on_a_face_answers_one_question(driven_app):
    kiosk = driven_app()
    kiosk.wait_for_screen("attract")
    kiosk.tap(smiley(kiosk, "satisfied"), times=2, interval_ms=120)
    touches_processed(kiosk, 2)
    kiosk.wait_for_screen("question")
    [response] = responses(kiosk)
    assert response["answers"] == {"overall": "satisfied"}


def test_a_double_tap_on_a_follow_up_answers_it_once(driven_app):
    kiosk = driven_app()
    kiosk.wait_for_screen("attract")
    kiosk.tap(smiley(kiosk, "satisfied"))
    snapshot = kiosk.wait_for(
        lambda s: s.get("screen") == "question" and one_tap_choices(s), what="a follow-up"
    )
    kiosk.tap(one_tap_choices(snapshot)[0], times=2, interval_ms=120)
    touches_processed(kiosk, 3)
    kiosk.wait_for(lambda s: s.get("screen") in ("question", "thanks"), what="the next screen")
    [response] = responses(kiosk)
    assert len(response["answers"]) == 2, response["answers"]  # the face and one follow-up


def one_tap_choices(snapshot: Snapshot) -> list[Widget]:
    """Choices answered by one tap (not the toggles of a multiple choice, which a second tap
    turns off)."""
    return [w for w in snapshot["widgets"] if w.get("choice") and "Toggle" not in w["kind"]]


def test_a_person_pressing_once_a_second_is_flagged_not_swallowed(driven_app):
    kiosk = driven_app()
    kiosk.wait_for_screen("attract")
    pace = threading.Event()
    spot = smiley(kiosk, "very_satisfied")
    for press in range(10):
        faces = [w for w in kiosk.widgets() if w.get("choice") == "very_satisfied"]
        spot = faces[0] if faces else spot  # the same face wherever it is, else the same place
        kiosk.tap(spot)
        touches_processed(kiosk, press + 1)
        pace.wait(1.0)  # the person's own rhythm: one press a second
    recorded = responses(kiosk)
    interval_ms = KioskSettings().suspect_interval_seconds * 1000
    flagged = [row for row in recorded if row["suspect"]]
    assert len(flagged) >= 3, [(r["answers"], r["suspect"]) for r in recorded]
    for before, after in itertools.pairwise(recorded):
        if after["started_monotonic_ms"] - before["started_monotonic_ms"] < interval_ms:
            assert after["suspect"], (before, after)


# Keys ---------------------------------------------------------------------------------------------


def assert_no_internal_panel(app: DrivenApp, expected_screen: str, key: str) -> None:
    snapshot = app.wait_for(lambda s: s.get("screen"), what="a screen")
    assert snapshot["panels"] == [], key
    assert not snapshot["settings_open"], key
    assert snapshot["screen"] == expected_screen, key
    assert app.process.poll() is None, f"{key} closed the app"


@pytest.mark.parametrize("mode", ["kiosk", "tablet"])
def test_no_key_opens_kivy_internals_nor_closes_the_app(driven_app, mode):
    app = driven_app("--fullscreen", "--mode", mode)
    first = app.wait_for(lambda s: s.get("screen") not in (None, "pin"), what="the first screen")
    for key in INTERNAL_KEYS:
        touched = app.snapshot().get("touches", 0)
        app.key(key)
        # A click at the top edge after the key: once it is handled, so was the key.
        app.xdotool("mousemove", "640", "10", "click", "1")
        touches_processed(app, touched + 1)
        assert_no_internal_panel(app, first["screen"], key)


# The agent's tablet ------------------------------------------------------------------------------


def take_buttons(snapshot: Snapshot) -> list[Widget]:
    return [w for w in snapshot.get("widgets", []) if w.get("id") == "take"]


def test_a_double_tap_on_visitor_arrived_makes_one_arrival(driven_app):
    tablet = driven_app("--mode", "tablet")
    touched = tablet.snapshot().get("touches", 0)
    tablet.tap(tablet.find(id="arrived"), times=2, interval_ms=120)
    touches_processed(tablet, touched + 2)
    tablet.wait_for(lambda s: len(take_buttons(s)) >= 1, what="the visitor waiting")
    assert [e["event"] for e in visit_events(tablet)] == ["arrived"]


def test_a_double_tap_on_take_in_charge_takes_one_visitor(driven_app):
    tablet = driven_app("--mode", "tablet")
    for waiting in (1, 2):
        tablet.tap(tablet.find(id="arrived"))
        tablet.wait_for(lambda s, n=waiting: len(take_buttons(s)) == n, what=f"{waiting} waiting")
    snapshot = tablet.snapshot()
    touched = snapshot.get("touches", 0)
    tablet.tap(take_buttons(snapshot)[0], times=2, interval_ms=120)
    touches_processed(tablet, touched + 2)
    tablet.wait_for(lambda s: len(take_buttons(s)) == 1, what="one visitor left waiting")
    taken = [e for e in visit_events(tablet) if e["event"] == "taken_in_charge"]
    assert len(taken) == 1, taken


# Right to left ------------------------------------------------------------------------------------


def reading_order(buttons: list[Widget]) -> list[str]:
    """Choices as an Arabic reader meets them: rows from the top, each row right to left."""
    rows: dict[int, list[Widget]] = {}
    for button in buttons:
        row = next((y for y in rows if abs(y - button["y"]) < button["height"] / 2), button["y"])
        rows.setdefault(row, []).append(button)
    ordered = []
    for row in sorted(rows):
        ordered += sorted(rows[row], key=lambda b: -b["x"])
    return [button["choice"] for button in ordered]


def test_every_choice_grid_reads_right_to_left_in_arabic(driven_app, live_server):
    kiosk = driven_app("--server", live_server.url, "--enrol-code", live_server.enrol())
    toggle = kiosk.wait_for(
        lambda s: any(ARABIC.search(w["text"]) for w in s["widgets"] if "Toggle" in w["kind"]),
        timeout=60,
        what="the Arabic language button (after enrolment)",
    )
    arabic = next(
        w for w in toggle["widgets"] if "Toggle" in w["kind"] and ARABIC.search(w["text"])
    )
    kiosk.tap(arabic)
    survey = load_default_survey()
    levels = [c.id for c in survey.main.choices if c.level is not None]

    def arabic_faces(snapshot: Snapshot) -> list[Widget]:
        faces = [w for w in snapshot["widgets"] if w.get("choice") in levels]
        return faces if faces and all(ARABIC.search(w["text"]) for w in faces) else []

    faces = arabic_faces(kiosk.wait_for(arabic_faces, what="the faces labelled in Arabic"))
    assert reading_order(faces) == levels
    # A dissatisfied visitor is asked the most follow-ups: answer each, checking its grid.
    kiosk.tap(smiley(kiosk, "dissatisfied"))
    checked = 0
    for _ in range(len(survey.questions)):
        snapshot = kiosk.wait_for(lambda s: s.get("screen") in ("question", "thanks"))
        if snapshot["screen"] == "thanks":
            break
        buttons = [w for w in snapshot["widgets"] if w.get("choice") is not None]
        if buttons:
            expected = _expected_order(survey, buttons)
            assert reading_order(buttons) == expected, _texts(snapshot)
            checked += 1
        next_question(kiosk, snapshot, buttons)
    assert checked >= 2


def next_question(kiosk: DrivenApp, snapshot: Snapshot, buttons: list[Widget]) -> None:
    """Answer with the first choice (and confirm a multiple choice), or skip; wait for the next."""
    progress = _progress(snapshot)
    if not buttons:
        kiosk.tap(kiosk.find(id="skip"))
    elif "Toggle" in buttons[0]["kind"]:
        kiosk.tap(buttons[0])
        kiosk.tap(kiosk.find(id="confirm"))
    else:
        kiosk.tap(buttons[0])
    kiosk.wait_for(
        lambda s: s.get("screen") != "question" or _progress(s) != progress, what="the next one"
    )


def _progress(snapshot: Snapshot) -> str | None:
    return next((w["text"] for w in snapshot["widgets"] if w.get("id") == "progress"), None)


def _texts(snapshot: Snapshot) -> str:
    return " ".join(w.get("text", "") for w in snapshot.get("widgets", []))


def _expected_order(survey, buttons: list[Widget]) -> list[str]:
    """The survey's order of the choices on screen (the question is the one they belong to)."""
    shown = {button["choice"] for button in buttons}
    for question in survey.questions:
        ids = [c.id for c in question.choices]
        if question.type == QuestionType.YES_NO:
            ids = ["yes", "no"]
        elif question.type == QuestionType.SCALE_0_10:
            ids = [str(n) for n in range(11)]
        if shown == set(ids):
            if question.type == QuestionType.SMILEY:
                levelled = [c.id for c in question.choices if c.level is not None]
                return levelled + [i for i in ids if i not in levelled]
            return ids
    raise AssertionError(f"no question has the choices {sorted(shown)}")
