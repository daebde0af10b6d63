"""Fonts, text direction and mirrored grids for every screen of the kiosk.

Roboto (Kivy's default) has no Arabic letters, so right-to-left languages switch every label,
button and text field to DejaVu Sans (shipped in assets/fonts/, free licence). The rules in
typography.kv bind each label's and text field's font to the app's `font_name`, which follows
the visitor's language.
"""

from __future__ import annotations

from pathlib import Path

from kivy.core.text import Label as CoreLabel
from kivy.core.text import LabelBase
from kivy.lang import Builder
from kivy.properties import BooleanProperty
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label

from kiosk.core.rtl import display_lines, is_rtl, mirror_x
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
    because Kivy would wrap it after reordering and put the lines in the wrong order.
    Prefer `show_text`, which measures with the label's own font and follows its width."""
    # An average Arabic glyph of DejaVu Sans Bold is about 0.6 of the font size wide; wrap a
    # little early so that Kivy never has to wrap the reordered line again.
    max_chars = max(6, int(width / (font_size * 0.7))) if width > 0 and font_size > 0 else None
    return display_lines(text, language, max_chars)


def show_text(label: Label, text: str, language: str) -> None:
    """Put `text` on `label` (a Label or Button), wrapped to the label's width with its own
    font and each line in reading order; again whenever its width, font or size changes."""
    label._logical_text = (text, language)
    if not getattr(label, "_follows_width", False):
        label._follows_width = True
        for name in ("width", "text_size", "font_size", "font_name", "bold"):
            label.fbind(name, _reshow, label)
    _reshow(label)


def _reshow(label: Label, *_: object) -> None:
    text, language = label._logical_text
    label.text = fitted_lines(
        text,
        language,
        label.text_size[0] or label.width,
        label.font_name,
        label.font_size,
        bold=label.bold,
    )


def fitted_lines(
    text: str, language: str, width: float, font_name: str, font_size: float, *, bold: bool
) -> str:
    """`text` as drawn in that font: for right-to-left languages, shaped, wrapped to `width`
    (measured with the font itself) and each line in reading order; others unchanged."""
    if not is_rtl(language) or width <= 0:
        return display_lines(text, language)
    room = width * 0.97  # a hair of slack, so that Kivy never wraps a reordered line again
    measure = CoreLabel(font_name=font_name, font_size=font_size, bold=bold)
    return display_lines(text, language, fits=lambda line: measure.get_extents(line)[0] <= room)


class MirroredGrid(GridLayout):
    """A grid whose children are added in reading order; in right-to-left languages each row
    fills from the right (and a short last row starts at the right)."""

    rtl = BooleanProperty(False)

    def on_rtl(self, *_: object) -> None:
        self._trigger_layout()

    def do_layout(self, *args: object) -> None:
        super().do_layout(*args)
        if self.rtl:
            for child in self.children:
                child.x = mirror_x(child.x, child.width, self.x, self.width)
