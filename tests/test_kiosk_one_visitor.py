"""One visitor, one response: what real visitors did to the kiosk, replayed with touches through
hit-testing and Kivy's clock moved by hand (no sleeping)."""

from __future__ import annotations

import json

import pytest

from kiosk.core.store import KioskStore
from tests.fixtures.kiosk import advance_clock, pump, tap, wait_for_screen
from tests.fixtures.kiosk_app import attract_smiley
from tests.fixtures.settling import patient_screens

pytestmark = pytest.mark.gui


def _responses(store: KioskStore) -> list[dict]:
    rows = list(store.db.query("select * from responses order by id"))
    for row in rows:
        row["answers"] = json.loads(row["answers"])
    return rows


def _on_question(app, choice_id: str):
    return next(
        w for w in app.question.ids.choices.walk() if getattr(w, "choice_id", None) == choice_id
    )


def _with_text(root, text: str):
    return next(w for w in root.walk() if getattr(w, "text", None) == text and hasattr(w, "state"))


def _double_tap(widget, gap_seconds: float) -> None:
    """Two quick touches at the same spot, `gap_seconds` apart: a finger bouncing."""
    from kivy.tests.common import UnitTestTouch

    wait_for_screen(widget)
    x, y = widget.to_window(*widget.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    touch.touch_up()
    advance_clock(gap_seconds, frames=1)
    with patient_screens():
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()
    pump(2)


def test_the_next_visitor_never_answers_the_previous_visitors_questions(kiosk, kiosk_store):
    app = kiosk()
    tap(attract_smiley(app, "very_satisfied"))  # the first visitor taps and walks away
    advance_clock(9)  # well within the old 40 s
    assert app.manager.current == "attract"
    tap(attract_smiley(app, "dissatisfied"))  # the second visitor's own opinion
    first, second = _responses(kiosk_store)
    assert (first["status"], first["answers"]) == ("partial", {"overall": "very_satisfied"})
    assert (second["status"], second["answers"]) == ("open", {"overall": "dissatisfied"})
    assert app.question._question.id == "why_unhappy"


def test_walking_away_after_the_main_tap_frees_the_kiosk_within_ten_seconds(kiosk):
    app = kiosk()
    tap(attract_smiley(app, "satisfied"))
    advance_clock(7.4)  # well before the ten seconds: the frames add a little time too
    assert app.manager.current == "question"
    advance_clock(2.5)  # 9.9 s after the main tap
    assert app.manager.current == "attract"


def test_a_completed_response_frees_the_kiosk_within_six_seconds_of_its_last_tap(kiosk):
    app = kiosk()
    tap(attract_smiley(app, "satisfied"))
    assert app.question.ids.progress.text == "Question 2 sur 2"  # the kiosk's short survey
    tap(_on_question(app, "very_satisfied"))
    assert app.manager.current == "thanks"
    advance_clock(4.5)  # well before the six seconds: the frames add a little time too
    assert app.manager.current == "thanks"
    advance_clock(1.4)  # 5.9 s after the last tap
    assert app.manager.current == "attract"


def test_a_double_tap_on_the_main_question_answers_it_once(kiosk, kiosk_store):
    app = kiosk()
    _double_tap(attract_smiley(app, "satisfied"), gap_seconds=0.12)
    [response] = _responses(kiosk_store)
    assert response["answers"] == {"overall": "satisfied"}
    assert app.question._question.id == "welcome"


def test_a_double_tap_on_the_last_follow_up_starts_no_second_response(kiosk, kiosk_store):
    app = kiosk()
    tap(attract_smiley(app, "satisfied"))
    _double_tap(_on_question(app, "satisfied"), gap_seconds=0.12)
    [response] = _responses(kiosk_store)
    assert (response["status"], response["answers"]) == (
        "complete",
        {"overall": "satisfied", "welcome": "satisfied"},
    )
    assert app.manager.current == "thanks"


def test_a_double_tap_on_valider_moves_on_one_question(kiosk, kiosk_store):
    app = kiosk()
    tap(attract_smiley(app, "dissatisfied"))
    tap(_with_text(app.question, "L'attente"))
    _double_tap(app.question.ids.confirm, gap_seconds=0.12)
    assert app.question._question.id == "welcome"
    [response] = _responses(kiosk_store)
    assert response["status"] == "open"


def test_the_next_visitor_answers_at_once_on_the_thank_you_screen(kiosk, kiosk_store):
    app = kiosk()
    tap(attract_smiley(app, "satisfied"))
    tap(_on_question(app, "satisfied"))
    assert app.manager.current == "thanks"
    assert app.thanks.ids.qr.data  # the rest of the survey, on the phone
    advance_clock(3)  # the next person was waiting
    tap(app.thanks.smiley("very_dissatisfied"))
    assert app.manager.current == "question"
    assert app.question._question.id == "why_unhappy"
    advance_clock(4)  # the first visitor's thank-you time is over: the new visitor stays
    assert app.manager.current == "question"
    first, second = _responses(kiosk_store)
    assert (first["status"], second["status"]) == ("complete", "open")
    assert second["answers"] == {"overall": "very_dissatisfied"}


def test_a_person_tapping_once_a_second_has_their_presses_flagged_suspect(kiosk, kiosk_store):
    app = kiosk(suspect_interval_seconds=4)
    tap(attract_smiley(app, "very_satisfied"))
    for _ in range(2):
        advance_clock(1)
        tap(_on_question(app, "very_satisfied"))
        advance_clock(1)
        tap(app.thanks.smiley("very_satisfied"))
    assert [r["suspect"] for r in _responses(kiosk_store)] == [0, 1, 1]


def test_a_new_visitor_after_the_interval_is_not_suspect(kiosk, kiosk_store):
    app = kiosk(suspect_interval_seconds=4)
    tap(attract_smiley(app, "satisfied"))
    tap(_on_question(app, "satisfied"))
    advance_clock(4.5)
    tap(app.thanks.smiley("satisfied"))
    assert [r["suspect"] for r in _responses(kiosk_store)] == [0, 0]


def test_back_goes_to_the_previous_question_and_its_answer_can_be_replaced(kiosk, kiosk_store):
    app = kiosk()
    tap(attract_smiley(app, "dissatisfied"))
    ids = app.question.ids
    assert ids.back.disabled is False
    tap(_with_text(app.question, "L'attente"))
    tap(ids.confirm)
    assert app.question.ids.progress.text == "Question 3 sur 3"
    tap(ids.back)
    assert app.question._question.id == "why_unhappy"
    assert app.question.ids.progress.text == "Question 2 sur 3"
    assert _responses(kiosk_store)[0]["answers"]["why_unhappy"] == ["waiting"]
    tap(_with_text(app.question, "Les locaux"))
    tap(ids.confirm)
    assert _responses(kiosk_store)[0]["answers"]["why_unhappy"] == ["premises"]
    tap(ids.back)
    tap(ids.back)  # back to the main question, which can be answered again, not skipped
    assert app.question._question.id == "overall"
    assert (ids.back.disabled, ids.skip.disabled) == (True, True)
    tap(_on_question(app, "satisfied"))
    assert app.question._question.id == "welcome"
    [response] = _responses(kiosk_store)
    assert response["answers"] == {"overall": "satisfied"}  # "what went wrong" withdrawn
