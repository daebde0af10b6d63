"""An on-screen keyboard for the optional comment: big keys, French AZERTY or Arabic letters,
a page of digits and punctuation, and (in French) a page with every accented letter.

The system keyboard is never shown on a kiosk (there is none, or it would let a visitor leave
the app); this one keeps the comment as typed (`value`, logical order) and shows it in a
TextInput, shaped and in reading order for right-to-left languages.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.core.i18n import translate
from kiosk.core.rtl import is_rtl
from kiosk.widgets.buttons import KioskButton, KioskToggle
from kiosk.widgets.typography import fitted_lines, show_text

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

SPACE, BACKSPACE = " ", "⌫"
LETTERS, SYMBOLS, ACCENTS = "letters", "symbols", "accents"

# AZERTY as on French keyboards, with the four most frequent accented letters at hand; every
# accented letter of French is on the accents page.
FRENCH = {
    LETTERS: ("azertyuiopè", "qsdfghjklmé", "wxcvbnçà',."),
    SYMBOLS: ("1234567890", "!?:;,.'\"()", "-/@€%&+=«»"),
    ACCENTS: ("àâæçéèêë", "îïôœùûüÿ", "'-,.?!"),
}
# The usual Arabic layout (letters where a PC keyboard has them), hamza forms at the row ends.
ARABIC = {
    LETTERS: ("ضصثقفغعهخحجد", "شسيبلاتنمكطأ", "ذئءؤرىةوزظإآ"),
    SYMBOLS: ("1234567890", "،؟.!:؛-'\"()", "/@€%&+=«»"),
}
FRENCH_ACCENTED = "àâæçéèêëîïôœùûüÿ"


def layout_for(language: str) -> dict[str, tuple[str, ...]]:
    return ARABIC if is_rtl(language) else FRENCH


def page_of(key: str, language: str) -> str | None:
    """The page on which `key` can be typed (the letters page first), or None."""
    return next((page for page, rows in layout_for(language).items() if key in "".join(rows)), None)


def apply_key(text: str, key: str, upper: bool, max_length: int) -> str:
    """The text after one key press (pure, so the typing rules are tested without a screen)."""
    if key == BACKSPACE:
        return text[:-1]
    typed = key.upper() if upper else key
    return text + typed if len(text) + len(typed) <= max_length else text


class KeyButton(KioskButton):
    """One key; greyed (still readable, 3:1) when the comment is full."""


class OnScreenKeyboard(BoxLayout):
    target = ObjectProperty(None, allownone=True)  # the TextInput that shows the comment
    value = StringProperty("")  # the comment as typed, in logical order
    upper = BooleanProperty(False)
    page = StringProperty(LETTERS)

    def __init__(self, max_length: int = 500, language: str = "fr", **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length
        self.language = language
        self.layout = layout_for(language)
        self.keys: dict[str, KioskButton] = {}
        self.bind(page=self._build, upper=self._relabel, value=self._show_value)
        self._build()

    def _build(self, *_: object) -> None:
        self.clear_widgets()
        self.keys = {}
        for row in self.layout[self.page]:
            line = BoxLayout(spacing=self.spacing)
            for key in row:
                line.add_widget(self._key(key, key))
            self.add_widget(line)
        self.add_widget(self._control_row())
        self._relabel()
        self._show_value()

    def _control_row(self) -> BoxLayout:
        row, lang = BoxLayout(spacing=self.spacing), self.language
        if ACCENTS in self.layout:  # scripts without capitals have no shift key
            shift = KioskToggle(state="down" if self.upper else "normal", size_hint_x=0.16)
            show_text(shift, translate("Maj", lang), lang)
            shift.bind(state=lambda _, state: setattr(self, "upper", state == "down"))
            row.add_widget(shift)
            self.shift = shift
        for page, label in ((SYMBOLS, "?123"), (ACCENTS, "àéü"), (LETTERS, translate("abc", lang))):
            if page in self.layout and page != self.page:
                switch = self._key(f"page:{page}", label, size_hint_x=0.14)
                row.add_widget(switch)
        row.add_widget(self._key(SPACE, translate("Espace", lang), size_hint_x=0.4))
        row.add_widget(self._key(BACKSPACE, translate("Effacer", lang), size_hint_x=0.18))
        return row

    def _key(self, key: str, label: str, **kwargs: object) -> KeyButton:
        button = KeyButton(**kwargs)
        show_text(button, label, self.language)
        button.key = key
        button.bind(on_release=lambda b: self.press(b.key))
        self.keys[key] = button
        return button

    def _relabel(self, *_: object) -> None:
        for key, button in self.keys.items():
            if len(key) == 1 and key.isalpha():
                show_text(button, key.upper() if self.upper else key, self.language)

    def press(self, key: str) -> None:
        if key.startswith("page:"):
            self.page = key.removeprefix("page:")
            return
        self.value = apply_key(self.value, key, self.upper, self.max_length)

    def _show_value(self, *_: object) -> None:
        full = len(self.value) >= self.max_length
        for key, button in self.keys.items():
            button.disabled = full and key != BACKSPACE and not key.startswith("page:")
        field = self.target
        if field is None:
            return
        room = field.width - field.padding[0] - field.padding[2]
        field.text = fitted_lines(
            self.value, self.language, room, field.font_name, field.font_size, bold=False
        )

    def on_target(self, _: object, field: object) -> None:
        if field is not None:
            field.bind(width=self._show_value)
            self._show_value()
