"""The comment keyboard: typing rules, every French accented letter and capital reachable by
taps, digits and punctuation on their own page, an Arabic layout for Arabic visitors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.widgets.keyboard import (
    ARABIC,
    BACKSPACE,
    FRENCH,
    FRENCH_ACCENTED,
    apply_key,
    layout_for,
    page_of,
)
from tests.fixtures.kiosk import tap
from tests.fixtures.kiosk_app import attract_smiley, kiosk_full_survey

EVERY_FRENCH_ACCENT = "àâæçéèêëîïôœùûüÿ"


def test_every_french_accented_letter_has_a_key():
    assert set(FRENCH_ACCENTED) == set(EVERY_FRENCH_ACCENT)
    for letter in EVERY_FRENCH_ACCENT:
        assert page_of(letter, "fr") is not None, letter


def test_digits_and_sentence_punctuation_have_keys_in_both_layouts():
    for language, question_mark in (("fr", "?"), ("ar", "؟")):
        for key in [*"0123456789!:", question_mark]:
            assert page_of(key, language) == "symbols", (language, key)


def test_arabic_visitors_get_arabic_letters_and_no_shift():
    assert layout_for("ar") is ARABIC
    assert layout_for("fr") is FRENCH
    letters = "".join(ARABIC["letters"])
    for letter in "ابتثجحخدذرزسشصضطظعغفقكلمنهويءأإآؤئةى":
        assert letter in letters, letter
    assert "accents" not in ARABIC


@given(st.text(max_size=20), st.sampled_from(["a", "é", "œ", " ", "ÿ", BACKSPACE]), st.booleans())
def test_a_key_adds_one_letter_or_removes_one_and_never_passes_the_limit(text, key, upper):
    typed = apply_key(text[:10], key, upper, max_length=10)
    assert len(typed) <= 10
    if key == BACKSPACE:
        assert typed == text[:10][:-1]
    else:
        assert typed in (text[:10], text[:10] + (key.upper() if upper else key))


def _type(keyboard, letter: str) -> None:
    """What a visitor does: switch to the page holding the letter, shift for a capital, tap."""
    lower = letter.lower()
    page = page_of(lower, "fr")
    if page != keyboard.page:
        tap(keyboard.keys[f"page:{page}"])
    if letter.isupper() != keyboard.upper:
        tap(keyboard.shift)
    tap(keyboard.keys[lower])


@pytest.mark.gui
def test_every_accented_letter_and_its_capital_is_typed_by_taps(kiosk, kiosk_store):
    app = kiosk(survey=kiosk_full_survey())
    tap(attract_smiley(app, "satisfied"))
    for _ in range(len(app.session.config.survey.questions)):
        if app.question._question.id == "comment":
            break
        tap(app.question.ids.skip)
    assert app.question._question.id == "comment"
    keyboard = app.question.keyboard
    wanted = EVERY_FRENCH_ACCENT + EVERY_FRENCH_ACCENT.upper()
    for letter in wanted:
        _type(keyboard, letter)
    assert keyboard.value == wanted
    assert app.question.text_field.text == wanted
    tap(keyboard.keys["page:symbols"])
    for key in "2026 !:?":
        tap(keyboard.keys[key])
    assert keyboard.value.endswith("2026 !:?")
    tap(app.question.ids.confirm)
    comment = kiosk_store.db.execute("select comment from responses").fetchone()[0]
    assert comment == wanted + "2026 !:?"
