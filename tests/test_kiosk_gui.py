"""The real kiosk window (offscreen or Xvfb), driven by touches and clock ticks, on a real store."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kiosk import theme
from kiosk.core.clock import SystemClock
from kiosk.core.rtl import display_lines
from kiosk.core.store import KioskStore
from kiosk.core.visitor import DeskConfig, VisitorSession
from qualivilles.bundled import load_default_survey
from qualivilles.device_config import PublishedResults
from qualivilles.survey import parse_definition
from tests.fixtures.kiosk import advance_clock, pump, pump_until, tap, wait_for_screen
from tests.fixtures.kiosk_app import PHONE_URL, attract_smiley, kiosk_comment_survey

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[1]


def _button_with_text(root, text: str):
    return next(w for w in root.walk() if getattr(w, "text", None) == text and hasattr(w, "state"))


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


def test_one_tap_records_the_main_answer_before_the_next_screen(kiosk, kiosk_store):
    app = kiosk()
    tap(attract_smiley(app, "satisfied"))
    assert app.manager.current == "question"
    [response] = _stored_responses(kiosk_store)
    assert response["answers"] == {"overall": "satisfied"}
    assert response["status"] == "open"
    assert app.question.ids.question.text == "L'amabilité et la courtoisie de l'agent"


def test_an_unhappy_answer_branches_to_what_went_wrong(kiosk, kiosk_store):
    app = kiosk()
    tap(attract_smiley(app, "very_dissatisfied"))
    assert app.question.ids.question.text == "Qu'est-ce qui n'a pas été ?"
    tap(_button_with_text(app.question, "L'attente"))
    tap(app.question.ids.confirm)
    [response] = _stored_responses(kiosk_store)
    assert response["answers"] == {"overall": "very_dissatisfied", "why_unhappy": ["waiting"]}


def test_skipping_everything_seals_a_complete_answer_and_returns_to_attract(kiosk, kiosk_store):
    app = kiosk(thank_you_seconds=3)  # long enough to be seen even on a loaded machine
    tap(attract_smiley(app, "very_satisfied"))
    while app.manager.current == "question":
        tap(app.question.ids.skip)
    assert app.manager.current == "thanks"
    assert app.thanks.ids.results.text == "92 % des visiteurs satisfaits en octobre (objectif 90 %)"
    [response] = _stored_responses(kiosk_store)
    assert response["status"] == "complete"
    assert kiosk_store.backlog() == 1
    assert pump_until(lambda: app.manager.current == "attract")


def test_a_follow_up_left_alone_keeps_the_answers_as_partial_and_resets(kiosk, kiosk_store):
    app = kiosk(languages=("fr", "en"))
    tap(_button_with_text(app.attract.ids.languages, "English"))
    assert app.attract.ids.question.text.startswith("Are you satisfied")
    tap(attract_smiley(app, "dissatisfied"))
    tap(_button_with_text(app.question, "The wait"))
    tap(app.question.ids.confirm)
    advance_clock(7.5)
    assert app.manager.current == "question"
    advance_clock(0.6)
    assert app.prompt is None  # nobody is asked: nobody is there
    assert app.manager.current == "attract"
    [response] = _stored_responses(kiosk_store)
    assert response["status"] == "partial"
    assert response["answers"] == {"overall": "dissatisfied", "why_unhappy": ["waiting"]}
    assert response["language"] == "en"
    assert app.language == "fr"  # the next visitor starts in French again
    assert app.attract.ids.question.text.startswith("Êtes-vous")


def _to_the_comment(app):
    tap(attract_smiley(app, "satisfied"))
    tap(app.question.ids.skip)
    assert app.question._question.id == "comment"


def test_a_visitor_typing_a_comment_is_asked_before_the_kiosk_resets(kiosk, kiosk_store):
    app = kiosk(survey=kiosk_comment_survey(), still_there_seconds=10)
    _to_the_comment(app)
    advance_clock(5)
    tap(app.question.keyboard.keys["b"])
    advance_clock(20)
    assert (app.manager.current, app.prompt) == ("question", None)  # typing takes time
    advance_clock(10.5)
    assert app.prompt is not None
    assert app.prompt.ids.question.text == "Êtes-vous toujours là ?"
    for _ in range(11):
        advance_clock(1, frames=1)
    assert pump_until(lambda: app.manager.current == "attract")
    [response] = _stored_responses(kiosk_store)
    assert (response["status"], response["answers"]) == ("partial", {"overall": "satisfied"})


def test_a_visitor_who_is_still_there_goes_on_where_they_were(kiosk, kiosk_store):
    app = kiosk(survey=kiosk_comment_survey(), still_there_seconds=30)
    _to_the_comment(app)
    tap(app.question.keyboard.keys["b"])
    advance_clock(31)
    assert app.prompt is not None
    tap(app.prompt.ids.stay)
    assert app.prompt is None
    assert app.manager.current == "question"
    assert app.question.text_field.text == "b"
    [response] = _stored_responses(kiosk_store)
    assert response["status"] == "open"


def _smiley_on_question(app, choice_id: str):
    return next(
        w for w in app.question.ids.choices.walk() if getattr(w, "choice_id", None) == choice_id
    )


def test_a_second_press_within_the_interval_is_kept_but_flagged_suspect(kiosk, kiosk_store):
    app = kiosk(suspect_interval_seconds=60)
    tap(attract_smiley(app, "very_satisfied"))
    tap(app.question.ids.finish)
    app.back_to_attract()
    pump()
    tap(attract_smiley(app, "very_satisfied"))
    first, second = _stored_responses(kiosk_store)
    assert (first["suspect"], second["suspect"]) == (0, 1)


@pytest.mark.parametrize("size", ["1280x800", "800x1280"])
def test_every_screen_renders_in_both_orientations(size, tmp_path):
    """Each orientation in a fresh process (see tests/tools/kiosk_screens.py)."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.tools.kiosk_screens", size, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    from tests.tools.kiosk_screens import SHOTS

    orientation = "landscape" if size == "1280x800" else "portrait"
    shots = sorted(tmp_path.glob("kiosk-*.png"))
    assert sorted(p.name for p in shots) == sorted(f"kiosk-{s}-{orientation}.png" for s in SHOTS)
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


def test_portrait_shows_the_desk_name_and_a_full_width_no_opinion_tile(kiosk, kivy_window):
    app = kiosk()
    kivy_window.size = (800, 1280)
    try:
        pump(5)
        ids = app.attract.ids
        assert ids.desk.text.startswith("IRIS")
        assert ids.desk.opacity == 1
        assert ids.desk.width > 600
        assert ids.desk.texture_size[1] <= ids.desk.height
        assert ids.no_opinion.width == pytest.approx(ids.smileys.width)
    finally:
        kivy_window.size = (1280, 800)
        pump(3)


@pytest.mark.parametrize("large_text", [False, True])
def test_in_low_mode_every_face_has_the_same_size(kiosk, large_text):
    app = kiosk()
    app.large_text = large_text
    app.low_mode = True
    pump(5)
    assert len({round(s.face.height) for s in app.attract.ids.smileys.children}) == 1
    tap(attract_smiley(app, "satisfied"))
    on_question = [w for w in app.question.ids.choices.walk() if hasattr(w, "face")]
    assert len({round(w.face.height) for w in on_question}) == 1


HOURS = {"mon": [["08:30", "12:00"], ["13:30", "17:30"]], "sat": [["09:00", "12:00"]]}
PARIS = ZoneInfo("Europe/Paris")


def test_outside_opening_hours_the_kiosk_shows_closed_and_takes_no_answer(kiosk, kiosk_store):
    monday_lunch = datetime(2026, 11, 30, 12, 30, tzinfo=PARIS)
    app = kiosk(wall_clock=lambda: monday_lunch, opening_hours=HOURS)
    assert app.manager.current == "closed"
    assert app.closed.ids.title.text == "Le guichet est fermé"
    assert app.closed.ids.hours.text == "Horaires d'aujourd'hui : 08:30–12:00, 13:30–17:30"
    assert app.closed.ids.qr.data == PHONE_URL  # the phone survey still works
    tap(app.closed.ids.title)
    assert _stored_responses(kiosk_store) == []


def test_during_opening_hours_the_attract_screen_is_shown(kiosk):
    monday_afternoon = datetime(2026, 11, 30, 14, 0, tzinfo=PARIS)
    app = kiosk(wall_clock=lambda: monday_afternoon, opening_hours=HOURS)
    assert app.manager.current == "attract"


def test_arabic_is_shaped_right_to_left_and_mirrors_the_scale(kiosk, kiosk_store):
    app = kiosk(languages=("fr", "en", "es", "ar"))
    tap(_button_with_text(app.attract.ids.languages, display_lines("العربية", "ar")))
    assert app.rtl is True
    assert app.font_name == "KioskDejaVu"
    assert app.attract.ids.question.text.replace("\n", " ").startswith("؟")
    pump(2)
    left_to_right = [w.choice_id for w in sorted(app.attract.ids.smileys.children, key=_x)]
    assert left_to_right == ["very_satisfied", "satisfied", "dissatisfied", "very_dissatisfied"]
    body = list(reversed(app.attract.ids.body.children))
    assert body[0] is app.attract.ids.qr_panel.__self__  # the phone code moves to the left
    tap(attract_smiley(app, "satisfied"))
    [response] = _stored_responses(kiosk_store)
    assert response["language"] == "ar"
    app.back_to_attract()
    pump()
    assert (app.rtl, app.font_name) == (False, "Roboto")
    pump(2)
    order = [w.choice_id for w in sorted(app.attract.ids.smileys.children, key=_x)]
    assert order == ["very_dissatisfied", "dissatisfied", "satisfied", "very_satisfied"]


def _x(widget) -> float:
    return widget.to_window(*widget.pos)[0]


def test_spanish_visitors_read_spanish(kiosk):
    app = kiosk(languages=("fr", "en", "es", "ar"))
    tap(_button_with_text(app.attract.ids.languages, "Español"))
    assert app.attract.ids.question.text == "¿Está satisfecho/a con la atención recibida hoy?"
    assert app.attract.ids.accessibility.text == "Accesibilidad"


def test_low_mode_brings_every_control_into_the_lower_part_and_resets(kiosk):
    app = kiosk()
    ids = app.attract.ids
    tap(ids.accessibility)
    tap(ids.low_mode)
    assert app.low_mode is True
    pump(3)
    lower_part = app.root.height * 0.72
    for control in [*ids.smileys.children, ids.no_opinion, ids.languages, ids.accessibility]:
        top = control.to_window(control.x, control.top)[1]
        assert top <= lower_part, control
    tap(attract_smiley(app, "satisfied"))
    assert app.question.ids.question.to_window(0, app.question.ids.question.top)[1] <= (
        app.root.height * 0.72
    )
    app.back_to_attract()
    assert app.low_mode is False


def test_large_text_enlarges_the_words_and_resets_for_the_next_visitor(kiosk):
    app = kiosk()
    before = app.attract.ids.question.font_size
    tap(app.attract.ids.accessibility)
    tap(app.attract.ids.large_text)
    pump()
    assert app.attract.ids.question.font_size == pytest.approx(before * 1.3)
    smiley = attract_smiley(app, "satisfied")
    assert smiley.font_size > theme.BODY_SIZE
    app.back_to_attract()
    pump()
    assert app.attract.ids.question.font_size == pytest.approx(before)


def test_the_comment_is_typed_on_the_on_screen_keyboard_with_accents(kiosk, kiosk_store):
    app = kiosk(survey=kiosk_comment_survey())
    tap(attract_smiley(app, "satisfied"))
    while app.question.ids.question.text != (
        "Un commentaire ou une suggestion ? (facultatif, ne donnez pas de nom ni de téléphone)"
    ):
        tap(app.question.ids.skip)
    keyboard = app.question.keyboard
    for key in "trs":
        tap(keyboard.keys[key])
    tap(keyboard.keys["è"])
    tap(keyboard.keys[" "])
    tap(keyboard.keys["b"])
    tap(keyboard.keys["⌫"])
    tap(keyboard.keys["ç"])
    assert app.question.text_field.text == "trsè ç"
    tap(app.question.ids.confirm)
    [response] = _stored_responses(kiosk_store)
    assert response["comment"] == "trsè ç"


def test_staff_hold_the_corner_type_the_pin_and_see_the_backlog(kiosk, kiosk_store):
    from kivy.tests.common import UnitTestTouch

    app = kiosk()
    tap(attract_smiley(app, "satisfied"))
    tap(app.question.ids.finish)  # one answer waiting to be sent
    app.back_to_attract()
    pump(2)  # the screen change completes on the next frame; touches wait for it
    corner = app.corners[0]
    corner.hold_seconds = 0.3
    wait_for_screen(corner)
    x, y = corner.to_window(*corner.center)
    assert (x, y) == (pytest.approx(corner.width / 2), pytest.approx(app.root.height - 40, abs=1))
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    assert pump_until(lambda: app.manager.current == "pin")
    touch.touch_up()
    for digit in "0000":  # the development PIN, flagged on the staff screen
        tap(next(k for k in app.pin.ids.keypad.children if k.text == digit))
    tap(app.pin.ok_key)
    assert app.manager.current == "staff"
    facts = " ".join(w.text for w in app.staff.ids.facts.walk() if hasattr(w, "text"))
    assert "Réponses à envoyer" in facts
    assert kiosk_store.backlog() == 1
    tap(app.staff.ids.close)
    assert app.manager.current == "attract"


def test_a_new_configuration_waits_for_the_current_visitor_to_finish(kiosk, kiosk_store):
    app = kiosk()
    survey = load_default_survey()
    main = survey.main
    new_text = "Comment s'est passé votre accueil ?"
    renamed = main.model_copy(update={"text": {**main.text, "fr": new_text}})
    questions = [renamed if q.id == main.id else q for q in survey.questions]
    new_desk = DeskConfig(
        survey=survey.model_copy(update={"version": survey.version + 1, "questions": questions}),
        phone_survey_url=PHONE_URL,
    )
    app.config_source = lambda: new_desk
    tap(attract_smiley(app, "satisfied"))  # a visitor is answering
    app.on_sync_report(object())  # the sync thread reports a new configuration
    pump(3)
    assert app.manager.current == "question"
    assert app.question.ids.question.text == "L'amabilité et la courtoisie de l'agent"
    tap(app.question.ids.finish)
    app.back_to_attract()
    pump(2)
    assert app.attract.ids.question.text == new_text
    tap(attract_smiley(app, "very_satisfied"))
    first, second = _stored_responses(kiosk_store)
    assert (first["survey_version"], second["survey_version"]) == (
        survey.version,
        survey.version + 1,
    )


def _survey_with_every_question_type():
    raw = json.loads((ROOT / "assets/surveys/qualivilles-accueil.v2.json").read_text("utf-8"))
    raw["questions"][2:2] = [
        {
            "id": "came_before",
            "type": "yes_no",
            "text": {"fr": "Êtes-vous déjà venu(e) ?", "en": "Have you been here before?"},
        },
        {
            "id": "recommend",
            "type": "scale_0_10",
            "text": {"fr": "Recommanderiez-vous ce service ?", "en": "Would you recommend us?"},
        },
    ]
    return parse_definition(raw)


def test_a_full_answer_through_every_question_type(kiosk_store, run_app):
    from kiosk.app import KioskApp

    desk = DeskConfig(survey=_survey_with_every_question_type(), phone_survey_url=PHONE_URL)
    app = run_app(KioskApp(VisitorSession(kiosk_store, SystemClock(), desk), store=kiosk_store))
    tap(attract_smiley(app, "dissatisfied"))
    tap(_button_with_text(app.question, "La réponse apportée"))
    tap(_button_with_text(app.question, "Les horaires"))
    tap(app.question.ids.confirm)
    tap(_button_with_text(app.question, "Oui"))
    tap(_button_with_text(app.question, "7"))
    for question in ("welcome", "waiting", "clarity", "premises"):
        assert app.question._question.id == question
        tap(_smiley_on_question(app, "satisfied"))
    tap(_button_with_text(app.question, "5 à 15 minutes"))
    for key in "bien":
        tap(app.question.keyboard.keys[key])
    tap(app.question.ids.confirm)
    assert app.manager.current == "thanks"
    [response] = _stored_responses(kiosk_store)
    assert response["status"] == "complete"
    assert response["answers"] == {
        "overall": "dissatisfied",
        "why_unhappy": ["answer", "opening_hours"],
        "came_before": "yes",
        "recommend": 7,
        "welcome": "satisfied",
        "waiting": "satisfied",
        "clarity": "satisfied",
        "premises": "satisfied",
        "wait_band": "5to15",
    }
    assert response["comment"] == "bien"
    assert kiosk_store.backlog() == 1


def test_the_escape_key_cannot_close_the_kiosk(kiosk):
    from kivy.core.window import Window

    app = kiosk()
    refused = Window.dispatch("on_request_close", source="keyboard")
    assert refused is True
    assert app.manager.current == "attract"


def test_the_message_under_the_smileys_changes_over_time(kiosk, monkeypatch):
    from kiosk.screens import attract

    monkeypatch.setattr(attract, "HINT_PERIOD_SECONDS", 0.2)
    app = kiosk()
    first = app.attract.ids.hint.text
    assert pump_until(lambda: app.attract.ids.hint.text != first)
    assert {first, app.attract.ids.hint.text} <= set(attract.ROTATING_HINTS)


def test_no_published_result_means_no_sentence():
    from kiosk.screens.thanks import results_sentence

    assert results_sentence(None, "fr") == ""
    assert results_sentence(PublishedResults(period="2026-10"), "fr") == ""
    sentence = results_sentence(PublishedResults(period="2026-10", satisfaction_rate=91.6), "es")
    assert sentence == "92 % de visitantes satisfechos en octubre"


def test_the_published_target_reads_as_it_was_set():
    from kiosk.screens.thanks import results_sentence

    published = PublishedResults(period="2026-10", satisfaction_rate=91.6, target=87.5)
    assert results_sentence(published, "fr") == (
        "92 % des visiteurs satisfaits en octobre (objectif 87,5 %)"
    )  # fmt: skip
    whole = PublishedResults(period="2026-10", satisfaction_rate=91.6, target=90.0)
    assert results_sentence(whole, "fr").endswith("(objectif 90 %)")
