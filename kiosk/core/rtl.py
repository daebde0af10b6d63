"""Right-to-left text and layout for a renderer that only draws left to right (Kivy's SDL2 text
provider).

Arabic letters change shape with their neighbours and the line runs right to left; Kivy does
neither, so text is shaped (arabic-reshaper) and put in visual order (python-bidi) before it is
drawn. Wrapping must happen *before* reordering, or the first visual line would hold the end of
the sentence: `display_lines` wraps on logical words, then reorders each line.

Grids are mirrored per row: the first item of the reading order sits at the top right, and a
short last row starts at the right too (`grid_cell`, `mirror_x`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import arabic_reshaper
from bidi import get_display

RTL_LANGUAGES = frozenset({"ar", "he", "fa", "ur"})


def is_rtl(language: str) -> bool:
    return language.split("-")[0] in RTL_LANGUAGES


def shape(text: str, language: str) -> str:
    """Arabic letters in their contextual forms, still in logical order (for measuring)."""
    return arabic_reshaper.reshape(text) if is_rtl(language) and text else text


def wrap_words(text: str, fits: Callable[[str], bool]) -> list[str]:
    """Greedy word wrap of logical text: each line as long as `fits` allows; a single word too
    long for a line keeps a line of its own rather than being cut."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if line and not fits(candidate):
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


def display_lines(
    text: str,
    language: str,
    max_chars: int | None = None,
    fits: Callable[[str], bool] | None = None,
) -> str:
    """Text ready to draw: unchanged for left-to-right languages; for right-to-left ones, shaped,
    wrapped on word boundaries (where `fits` says a shaped line still fits, or at `max_chars`),
    and each line put in visual order."""
    if not is_rtl(language) or not text:
        return text
    shaped = shape(text, language)
    if fits is not None:
        lines = wrap_words(shaped, fits)
    elif max_chars:
        lines = textwrap.wrap(shaped, max_chars, break_long_words=False, break_on_hyphens=False)
    else:
        lines = shaped.split("\n")
    return "\n".join(get_display(line) for line in lines)


def grid_cell(index: int, cols: int, rtl: bool) -> tuple[int, int]:
    """(row, column counted from the left) of the `index`-th item in reading order."""
    row, col = divmod(index, max(1, cols))
    return row, (max(1, cols) - 1 - col) if rtl else col


def mirror_x(x: float, width: float, box_x: float, box_width: float) -> float:
    """The left edge of a `width`-wide box at `x`, mirrored across the middle of its container."""
    return box_x + (box_x + box_width) - (x + width)
