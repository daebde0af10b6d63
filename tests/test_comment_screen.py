"""The comment screen: the whole privacy hint readable in every mode and size, keys big enough,
readable placeholder and greyed keys, and a worded answer when there is nothing to validate."""

from __future__ import annotations

import pytest
from kivy.metrics import dp

from kiosk import theme
from kiosk.core.contrast import contrast_ratio
from tests.fixtures.kiosk import pump, tap
from tests.fixtures.kiosk_app import attract_smiley, kiosk_full_survey

pytestmark = pytest.mark.gui

SIZES = {"landscape": (1280, 800), "portrait": (800, 1280)}
MODES = ("normal", "large text", "low mode", "low mode and large text")


def _to_comment(app):
    tap(attract_smiley(app, "satisfied"))
    for _ in range(len(app.session.config.survey.questions)):
        if app.question._question.id == "comment":
            break
        tap(app.question.ids.skip)
    assert app.question._question.id == "comment"
    pump(3)


def _window_box(widget) -> tuple[float, float, float, float]:
    x, y = widget.to_window(*widget.pos)
    return x, y, x + widget.width, y + widget.height


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("size", SIZES)
def test_the_whole_privacy_hint_is_visible_above_the_field(kiosk, kivy_window, size, mode):
    kivy_window.size = SIZES[size]
    try:
        app = kiosk(survey=kiosk_full_survey())
        app.large_text = "large" in mode
        app.low_mode = "low" in mode
        _to_comment(app)
        question, field = app.question.ids.question, app.question.text_field
        assert "ne donnez pas de nom ni de téléphone" in question.text
        _left, bottom, _right, top = _window_box(question)
        assert question.texture_size[1] <= question.height  # every line drawn
        assert question.texture_size[0] <= question.width
        assert top <= kivy_window.height
        assert bottom >= 0
        assert _window_box(field)[3] <= bottom  # the field starts below the hint, no overlap
        keys = list(app.question.keyboard.keys.values())
        assert min(k.height for k in keys) >= dp(44)
        actions_top = _window_box(app.question.ids.actions)[3]
        assert min(_window_box(k)[1] for k in keys) >= actions_top  # keys above the actions
        assert max(_window_box(k)[3] for k in keys) <= _window_box(field)[1]
        if app.low_mode:  # every key within reach from a wheelchair
            assert max(_window_box(k)[3] for k in keys) <= kivy_window.height * 0.72
    finally:
        kivy_window.size = SIZES["landscape"]
        pump(3)


def test_the_placeholder_and_greyed_keys_are_readable(kiosk):
    app = kiosk(survey=kiosk_full_survey())
    _to_comment(app)
    field, keyboard = app.question.text_field, app.question.keyboard
    assert field.text == ""
    assert field.hint_text == "Votre message (facultatif)"
    assert contrast_ratio(field.hint_text_color, field.background_color) >= 4.5
    keyboard.max_length = 3
    for key in "abc":
        tap(keyboard.keys[key])
    letter = keyboard.keys["d"]
    assert letter.disabled
    assert not keyboard.keys["⌫"].disabled
    assert contrast_ratio(letter.disabled_color, theme.SURFACE) >= 3
    tap(keyboard.keys["⌫"])
    assert not letter.disabled


def test_validating_an_empty_comment_says_what_to_do(kiosk, kiosk_store):
    app = kiosk(survey=kiosk_full_survey())
    _to_comment(app)
    tap(app.question.ids.confirm)
    assert app.manager.current == "question"  # nothing recorded, the visitor stays
    field = app.question.text_field
    assert field.hint_text == "Écrivez quelques mots ou passez la question"
    assert contrast_ratio(field.hint_text_color, field.background_color) >= 4.5
    tap(app.question.keyboard.keys["o"])
    tap(app.question.keyboard.keys["k"])
    tap(app.question.ids.confirm)
    assert app.manager.current == "thanks"


def test_validating_no_ticked_reason_says_what_to_do_in_the_visitors_language(kiosk):
    app = kiosk(survey=kiosk_full_survey(), languages=("fr", "en", "es", "ar"))
    tap(next(w for w in app.attract.ids.languages.children if w.text == "English"))
    tap(attract_smiley(app, "very_dissatisfied"))
    assert app.question._question.id == "why_unhappy"
    tap(app.question.ids.confirm)
    assert app.question._question.id == "why_unhappy"
    assert app.question.notice.text == "Choose at least one answer or skip the question"
    assert app.question.notice.height > 0
