"""Right-to-left text is shaped, wrapped on logical words, then reordered line by line."""

from hypothesis import given
from hypothesis import strategies as st

from kiosk.core.rtl import display_lines, is_rtl

QUESTION_AR = "هل أنتم راضون عن الاستقبال اليوم؟"


def test_left_to_right_languages_are_untouched():
    assert display_lines("Êtes-vous satisfait(e) ?", "fr", 10) == "Êtes-vous satisfait(e) ?"
    assert not is_rtl("en")


def test_arabic_is_shaped_and_in_visual_order():
    shown = display_lines(QUESTION_AR, "ar")
    assert is_rtl("ar")
    assert shown != QUESTION_AR
    assert shown[0] == "؟"  # the question mark ends the sentence, so it is drawn leftmost
    assert "\u0647" not in shown  # letters are replaced by their contextual presentation forms


def test_wrapping_keeps_the_first_words_on_the_first_line():
    first_line, *_ = display_lines(QUESTION_AR, "ar", max_chars=12).split("\n")
    first_word = display_lines("هل", "ar")
    assert first_line.endswith(first_word)  # read from the right: the sentence's first word


@given(
    st.lists(
        st.sampled_from(["هل", "أنتم", "راضون", "عن", "الاستقبال", "اليوم"]),
        min_size=1,
        max_size=12,
    ),
    st.integers(min_value=3, max_value=40),
)
def test_wrapping_never_loses_splits_or_invents_a_word(words, width):
    text = " ".join(words)
    wrapped = display_lines(text, "ar", width).replace("\n", " ").split()
    assert sorted(wrapped) == sorted(display_lines(text, "ar").split())
