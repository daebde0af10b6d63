"""Right-to-left text for a renderer that only draws left to right (Kivy's SDL2 text provider).

Arabic letters change shape with their neighbours and the line runs right to left; Kivy does
neither, so text is shaped (arabic-reshaper) and put in visual order (python-bidi) before it is
drawn. Wrapping must happen *before* reordering, or the first visual line would hold the end of
the sentence: `display_lines` wraps on logical words, then reorders each line.
"""

from __future__ import annotations

import textwrap

import arabic_reshaper
from bidi import get_display

RTL_LANGUAGES = frozenset({"ar", "he", "fa", "ur"})


def is_rtl(language: str) -> bool:
    return language.split("-")[0] in RTL_LANGUAGES


def display_lines(text: str, language: str, max_chars: int | None = None) -> str:
    """Text ready to draw: unchanged for left-to-right languages; for right-to-left ones, shaped,
    wrapped at `max_chars` on word boundaries, and each line put in visual order."""
    if not is_rtl(language) or not text:
        return text
    shaped = arabic_reshaper.reshape(text)
    lines = (
        textwrap.wrap(shaped, max_chars, break_long_words=False, break_on_hyphens=False)
        if max_chars
        else [shaped]
    )
    return "\n".join(get_display(line) for line in lines)
