"""An on-screen French keyboard for the optional comment: big keys, accents on their own row.

The system keyboard is never shown on a kiosk (there is none, or it would let a visitor leave
the app); this one types into a TextInput through its public API only.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ObjectProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.core.i18n import translate
from kiosk.widgets.buttons import KioskButton, KioskToggle

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

# AZERTY, as on French keyboards, with the accented letters a French comment needs.
ROWS = (
    "azertyuiop",
    "qsdfghjklm",
    "wxcvbn',.?",
    "éèêàçùôîœ-",
)
SHIFT, SPACE, BACKSPACE = "⇧", " ", "⌫"


def apply_key(text: str, key: str, upper: bool, max_length: int) -> str:
    """The text after one key press (pure, so the typing rules are tested without a screen)."""
    if key == BACKSPACE:
        return text[:-1]
    typed = key.upper() if upper else key
    return text + typed if len(text) + len(typed) <= max_length else text


class OnScreenKeyboard(BoxLayout):
    target = ObjectProperty(None, allownone=True)  # the TextInput to type into
    upper = BooleanProperty(False)

    def __init__(self, max_length: int = 500, language: str = "fr", **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length
        self.keys: dict[str, KioskButton] = {}
        for row in ROWS:
            line = BoxLayout(spacing=dp(8))
            for key in row:
                line.add_widget(self._key(key, key))
            self.add_widget(line)
        last = BoxLayout(spacing=dp(8))
        shift = KioskToggle(text=translate("Maj", language), size_hint_x=0.2)
        shift.bind(state=lambda _, state: setattr(self, "upper", state == "down"))
        last.add_widget(shift)
        last.add_widget(self._key(SPACE, translate("Espace", language), size_hint_x=0.6))
        last.add_widget(self._key(BACKSPACE, translate("Effacer", language), size_hint_x=0.2))
        self.add_widget(last)
        self.bind(upper=self._relabel)

    def _key(self, key: str, label: str, **kwargs: object) -> KioskButton:
        button = KioskButton(text=label, **kwargs)
        button.key = key
        button.bind(on_release=lambda b: self.press(b.key))
        self.keys[key] = button
        return button

    def _relabel(self, *_: object) -> None:
        for key, button in self.keys.items():
            if len(key) == 1 and key.isalpha():
                button.text = key.upper() if self.upper else key

    def press(self, key: str) -> None:
        if self.target is not None:
            self.target.text = apply_key(self.target.text, key, self.upper, self.max_length)
