"""Arabic on the real kiosk window: every grid read row by row from the right, "no opinion" apart,
wrapped words in reading order, the Arabic font everywhere (the comment field too)."""

from __future__ import annotations

import pytest

from kiosk.core.i18n import translate
from kiosk.core.rtl import display_lines
from tests.fixtures.kiosk import pump, tap
from tests.fixtures.kiosk_app import attract_smiley, kiosk_full_survey

pytestmark = pytest.mark.gui

ARABIC = display_lines("العربية", "ar")
PORTRAIT, LANDSCAPE = (800, 1280), (1280, 800)


def _rows_right_to_left(widgets) -> list:
    """Widgets in Arabic reading order from their window positions: top row first, each row
    from the right."""
    placed = [(w.to_window(*w.pos), w) for w in widgets]
    rows: dict[int, list] = {}
    for (x, y), widget in placed:
        rows.setdefault(round(y), []).append((x, widget))
    return [w for y in sorted(rows, reverse=True) for _, w in sorted(rows[y], key=lambda p: -p[0])]


def _in_arabic(app):
    tap(next(w for w in app.attract.ids.languages.children if w.text == ARABIC))
    assert app.rtl


def _at_question(app, question_id: str) -> None:
    for _ in range(len(app.session.config.survey.questions)):
        if app.question._question.id == question_id:
            return
        tap(app.question.ids.skip)
    raise AssertionError(f"the kiosk never asked {question_id!r}")


def _choice_widgets(app) -> list:
    return [w for w in app.question.ids.choices.walk() if hasattr(w, "choice_id")]


def _values(widgets) -> list:
    return [getattr(w, "choice_id", None) or w.value for w in widgets]


@pytest.fixture(params=[LANDSCAPE, PORTRAIT], ids=["landscape", "portrait"])
def window_size(request, kivy_window):
    kivy_window.size = request.param
    pump(3)
    yield request.param
    kivy_window.size = LANDSCAPE
    pump(3)


def test_every_choice_grid_reads_row_by_row_from_the_right(kiosk, window_size):
    app = kiosk(survey=kiosk_full_survey(), languages=("fr", "en", "es", "ar"))
    _in_arabic(app)
    faces = _rows_right_to_left(app.attract.ids.smileys.children)
    assert [f.choice_id for f in faces] == [
        "very_dissatisfied",
        "dissatisfied",
        "satisfied",
        "very_satisfied",
    ]
    tap(attract_smiley(app, "dissatisfied"))
    why = app.question._question
    assert why.id == "why_unhappy"
    assert _values(_rows_right_to_left(_choice_widgets(app))) == [c.id for c in why.choices]
    tap(app.question.ids.skip)
    smileys = [w for w in _choice_widgets(app) if hasattr(w, "level")]
    assert [w.choice_id for w in _rows_right_to_left(smileys)] == [
        "very_dissatisfied",
        "dissatisfied",
        "satisfied",
        "very_satisfied",
    ]
    [no_opinion] = [w for w in _choice_widgets(app) if not hasattr(w, "level")]
    lowest_face = min(w.to_window(*w.pos)[1] for w in smileys)
    assert no_opinion.to_window(no_opinion.x, no_opinion.top)[1] < lowest_face  # apart, below
    _at_question(app, "wait_band")
    bands = [w for w in app.question.ids.choices.walk() if hasattr(w, "value")]
    ordered = [w.value for w in _rows_right_to_left(bands)]
    assert ordered == [c.id for c in app.question._question.choices]
    first, second = bands[0], bands[1]  # in reading order: "<5" right of "5-15", same row
    assert first.to_window(*first.pos)[1] == second.to_window(*second.pos)[1]
    assert first.to_window(*first.pos)[0] > second.to_window(*second.pos)[0]


def test_wrapped_arabic_labels_keep_their_first_words_on_the_first_line(kiosk, kivy_window):
    kivy_window.size = PORTRAIT
    try:
        app = kiosk(survey=kiosk_full_survey(), languages=("fr", "en", "es", "ar"))
        _in_arabic(app)
        tap(attract_smiley(app, "satisfied"))
        pump(3)
        skip = app.question.ids.skip
        lines = skip.text.split("\n")
        assert len(lines) > 1  # "Passer cette question" wraps on a portrait tablet
        first_word = display_lines("تخطي", "ar")
        assert lines[0].endswith(first_word), lines  # drawn rightmost: read first
        assert skip.texture_size[0] <= skip.width
    finally:
        kivy_window.size = LANDSCAPE
        pump(3)


def test_the_comment_field_and_its_keys_use_a_font_with_arabic_letters(kiosk):
    app = kiosk(survey=kiosk_full_survey(), languages=("fr", "en", "es", "ar"))
    _in_arabic(app)
    tap(attract_smiley(app, "satisfied"))
    _at_question(app, "comment")
    field, keyboard = app.question.text_field, app.question.keyboard
    assert field.font_name == "KioskDejaVu"
    assert field.hint_text == display_lines("رسالتكم (اختياري)", "ar")
    assert keyboard.keys["ض"].font_name == "KioskDejaVu"
    assert keyboard.keys["ض"].text == display_lines("ض", "ar")  # shaped like every label
    assert keyboard.keys["⌫"].text == display_lines(translate("Effacer", "ar"), "ar")
    for key in ("ش", "ك", "ر"):
        tap(keyboard.keys[key])
    assert keyboard.value == "شكر"  # kept as typed
    assert field.text == display_lines("شكر", "ar")  # shown joined, right to left


def test_the_thank_you_faces_read_from_the_right_in_arabic(kiosk, window_size):
    app = kiosk(languages=("fr", "en", "es", "ar"))
    _in_arabic(app)
    tap(attract_smiley(app, "satisfied"))
    tap(app.question.ids.finish)
    assert app.manager.current == "thanks"
    pump(3)
    faces = _rows_right_to_left(app.thanks.ids.smileys.children)
    main = app.session.config.survey.main
    levelled = [c.id for c in main.choices if c.level is not None]
    apart = [c.id for c in main.choices if c.level is None]  # "no opinion", last to read
    assert [face.choice_id for face in faces] == levelled + apart
