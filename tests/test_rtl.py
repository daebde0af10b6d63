"""Right-to-left text is shaped, wrapped on logical words, then reordered line by line; grids
are mirrored row by row."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.core.rtl import display_lines, grid_cell, is_rtl, mirror_x, wrap_words

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


def test_wrapping_by_measure_keeps_the_first_words_on_the_first_line():
    text = "تخطوا السؤال إذا لم تكن لديكم إجابة"
    lines = display_lines(text, "ar", fits=lambda line: len(line) <= 14).split("\n")
    assert len(lines) > 1
    assert lines[0].endswith(display_lines("تخطوا", "ar"))  # drawn rightmost: read first


@given(
    st.lists(st.sampled_from(["هل", "أنتم", "راضون", "عن", "الاستقبال", "اليوم"]), max_size=12),
    st.integers(min_value=1, max_value=40),
)
def test_word_wrap_keeps_every_word_in_order_and_each_line_fits(words, width):
    text = " ".join(words)
    lines = wrap_words(text, lambda line: len(line) <= width)
    assert " ".join(lines).split() == words  # logical order kept, nothing lost or added
    for line in lines:
        assert len(line) <= width or " " not in line  # only a lone long word may overflow


def test_a_grid_fills_rows_from_the_right_in_right_to_left_languages():
    # Wait bands in a two-column grid: "<5, 5–15" on the first row, read from the right.
    bands = ["<5", "5-15", "15-30", ">30"]
    cells = {band: grid_cell(i, 2, rtl=True) for i, band in enumerate(bands)}
    assert cells == {"<5": (0, 1), "5-15": (0, 0), "15-30": (1, 1), ">30": (1, 0)}
    assert [grid_cell(i, 2, rtl=False) for i in range(3)] == [(0, 0), (0, 1), (1, 0)]
    assert grid_cell(4, 2, rtl=True) == (2, 1)  # a short last row starts at the right


@given(st.integers(min_value=0, max_value=40), st.integers(min_value=1, max_value=12))
def test_every_item_gets_its_own_cell_and_rows_are_mirrored_not_reshuffled(count, cols):
    rtl = [grid_cell(i, cols, rtl=True) for i in range(count)]
    ltr = [grid_cell(i, cols, rtl=False) for i in range(count)]
    assert len(set(rtl)) == count
    assert [(row, cols - 1 - col) for row, col in rtl] == ltr


@given(st.floats(-1000, 1000), st.floats(0, 500), st.floats(-1000, 1000), st.floats(0, 2000))
def test_mirroring_twice_is_the_identity(x, width, box_x, box_width):
    once = mirror_x(x, width, box_x, box_width)
    assert mirror_x(once, width, box_x, box_width) == pytest.approx(x, abs=1e-6)
    # The gap to one edge of the box becomes the gap to the other edge.
    assert once - box_x == pytest.approx((box_x + box_width) - (x + width), abs=1e-6)
