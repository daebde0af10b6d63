"""The real kiosk window (offscreen or Xvfb), driven by touches and clock ticks, on a real store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.core.clock import SystemClock
from kiosk.core.store import KioskStore
from kiosk.core.survey import load_default_survey
from kiosk.core.visitor import DeskConfig, KioskSettings, VisitorSession
from tests.fixtures.kiosk import pump, pump_until, tap

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[1]
PHONE_URL = "http://127.0.0.1:8000/s/centre-administratif/iris"


def _desk(**settings: float) -> DeskConfig:
    return DeskConfig(
        survey=load_default_survey(),
        settings=KioskSettings(**settings),
        phone_survey_url=PHONE_URL,
        published_results={"period": "2026-10", "satisfaction_rate": 92.4, "answers": 48,
                           "target": 90},
        desk_name="IRIS – guichet unique – Centre administratif municipal",
    )


@pytest.fixture
def store(tmp_path):
    with KioskStore(tmp_path / "kiosk.db", SystemClock()) as opened:
        yield opened


@pytest.fixture
def kiosk(store, run_app):  # store first: it must outlive the app at teardown
    from kiosk.app import KioskApp

    def start(**settings: float):
        return run_app(KioskApp(VisitorSession(store, SystemClock(), _desk(**settings))))

    return start


def _smiley(app, choice_id: str):
    return next(w for w in app.attract.ids.smileys.children if w.choice_id == choice_id)


def _button_with_text(root, text: str):
    return next(w for w in root.walk() if getattr(w, "text", None) == text
                and hasattr(w, "state"))


def _stored_responses(store: KioskStore) -> list[dict]:
    rows = list(store.db.query("select * from responses order by id"))
    for row in rows:
        row["answers"] = json.loads(row["answers"])
    return rows


def test_the_attract_screen_shows_the_question_smileys_with_words_and_the_qr_code(kiosk):
    app = kiosk()
    ids = app.attract.ids
    assert ids.question.text == "Êtes-vous satisfait(e) de l'accueil aujourd'hui ?"
    words = [w.text for w in reversed(ids.smileys.children)]
    assert words == ["Pas du tout satisfait", "Peu satisfait", "Satisfait", "Très satisfait"]
    assert ids.no_opinion.text == "Sans avis"
    assert ids.qr.data == PHONE_URL
    for smiley in ids.smileys.children:  # kiosk targets are far above 44 px
        assert smiley.width > 150
        assert smiley.height > 150


def test_one_tap_records_the_main_answer_before_the_next_screen(kiosk, store):
    app = kiosk()
    tap(_smiley(app, "satisfied"))
    assert app.manager.current == "question"
    [response] = _stored_responses(store)
    assert response["answers"] == {"overall": "satisfied"}
    assert response["status"] == "open"
    assert app.question.ids.question.text == "L'amabilité et la courtoisie de l'agent"


def test_an_unhappy_answer_branches_to_what_went_wrong(kiosk, store):
    app = kiosk()
    tap(_smiley(app, "very_dissatisfied"))
    assert app.question.ids.question.text == "Qu'est-ce qui n'a pas été ?"
    tap(_button_with_text(app.question, "L'attente"))
    tap(app.question.ids.confirm)
    [response] = _stored_responses(store)
    assert response["answers"] == {"overall": "very_dissatisfied", "why_unhappy": ["waiting"]}


def test_skipping_everything_seals_a_complete_answer_and_returns_to_attract(kiosk, store):
    app = kiosk(thank_you_seconds=0.2)
    tap(_smiley(app, "very_satisfied"))
    while app.manager.current == "question":
        tap(app.question.ids.skip)
    assert app.manager.current == "thanks"
    assert app.thanks.ids.results.text == "92 % des visiteurs satisfaits en octobre (objectif 90 %)"
    [response] = _stored_responses(store)
    assert response["status"] == "complete"
    assert store.backlog() == 1
    assert pump_until(lambda: app.manager.current == "attract")


def test_inactivity_asks_then_keeps_the_answers_as_partial_and_resets(kiosk, store):
    # Long enough that the two taps below always land first, even on a slow CI machine.
    app = kiosk(inactivity_timeout_seconds=1.5, still_there_seconds=1)
    tap(_button_with_text(app.attract.ids.languages, "English"))
    assert app.attract.ids.question.text.startswith("Are you satisfied")
    tap(_smiley(app, "satisfied"))
    tap(_smiley_on_question(app, "very_satisfied"))
    assert pump_until(lambda: app.prompt is not None)
    assert app.prompt.ids.question.text == "Are you still there?"
    assert app.manager.current == "question"  # nothing is lost while asking
    assert pump_until(lambda: app.manager.current == "attract")
    [response] = _stored_responses(store)
    assert response["status"] == "partial"
    assert response["answers"] == {"overall": "satisfied", "welcome": "very_satisfied"}
    assert response["language"] == "en"
    assert app.language == "fr"  # the next visitor starts in French again
    assert app.attract.ids.question.text.startswith("Êtes-vous")


def test_a_visitor_who_is_still_there_goes_on_where_they_were(kiosk, store):
    app = kiosk(inactivity_timeout_seconds=1.0, still_there_seconds=30)
    tap(_smiley(app, "satisfied"))
    assert pump_until(lambda: app.prompt is not None)
    tap(app.prompt.ids.stay)
    assert app.prompt is None
    assert app.manager.current == "question"
    assert app.question.ids.question.text == "L'amabilité et la courtoisie de l'agent"
    [response] = _stored_responses(store)
    assert response["status"] == "open"


def _smiley_on_question(app, choice_id: str):
    return next(w for w in app.question.ids.choices.walk()
                if getattr(w, "choice_id", None) == choice_id)


def test_a_second_press_within_the_interval_is_kept_but_flagged_suspect(kiosk, store):
    app = kiosk(suspect_interval_seconds=60)
    tap(_smiley(app, "very_satisfied"))
    tap(app.question.ids.finish)
    app.back_to_attract()
    pump()
    tap(_smiley(app, "very_satisfied"))
    first, second = _stored_responses(store)
    assert (first["suspect"], second["suspect"]) == (0, 1)


@pytest.mark.parametrize("size", ["1280x800", "800x1280"])
def test_every_screen_renders_in_both_orientations(size, tmp_path):
    """Each orientation in a fresh process (see tests/tools/kiosk_screens.py)."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.tools.kiosk_screens", size, str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    shots = sorted(tmp_path.glob("kiosk-*.png"))
    assert [p.name.split("-")[1] for p in shots] == ["attract", "follow", "thanks", "why"]
    width, height = (int(n) for n in size.split("x"))
    for shot in shots:
        with shot.open("rb") as image:
            header = image.read(24)
        assert int.from_bytes(header[16:20], "big") == width
        assert int.from_bytes(header[20:24], "big") == height


def test_portrait_tablets_get_the_smileys_two_by_two_and_the_qr_code_below(kiosk, kivy_window):
    app = kiosk()
    kivy_window.size = (800, 1280)
    try:
        pump(5)
        assert app.attract.landscape is False
        assert app.attract.ids.smileys.cols == 2
        qr, smileys = app.attract.ids.qr, app.attract.ids.smileys
        assert qr.to_window(*qr.pos)[1] < smileys.to_window(*smileys.pos)[1]  # QR underneath
    finally:
        kivy_window.size = (1280, 800)
        pump(3)
