"""Fonts and text direction for every label of the kiosk.

Roboto (Kivy's default) has no Arabic letters, so right-to-left languages switch every label to
DejaVu Sans (shipped in assets/fonts/, free licence). The rule in typography.kv binds each
label's font to the app's `font_name`, which follows the visitor's language.
"""

from __future__ import annotations

from pathlib import Path

from kivy.core.text import LabelBase
from kivy.lang import Builder

from kiosk.core.rtl import display_lines, is_rtl
from qualivilles.bundled import FONTS_DIR

DEFAULT_FONT = "Roboto"
WIDE_SCRIPT_FONT = "KioskDejaVu"

LabelBase.register(
    WIDE_SCRIPT_FONT,
    fn_regular=str(FONTS_DIR / "DejaVuSans.ttf"),
    fn_bold=str(FONTS_DIR / "DejaVuSans-Bold.ttf"),
)
Builder.load_file(str(Path(__file__).with_suffix(".kv")))


def font_for(language: str) -> str:
    return WIDE_SCRIPT_FONT if is_rtl(language) else DEFAULT_FONT


def shown(text: str, language: str, width: float, font_size: float) -> str:
    """`text` ready for a label of that width: right-to-left text is shaped and wrapped here,
    because Kivy would wrap it after reordering and put the lines in the wrong order."""
    # An average Arabic glyph of DejaVu Sans Bold is about 0.6 of the font size wide; wrap a
    # little early so that Kivy never has to wrap the reordered line again.
    max_chars = max(6, int(width / (font_size * 0.7))) if width > 0 and font_size > 0 else None
    return display_lines(text, language, max_chars)
