"""The kiosk's plain buttons: big, rounded, high-contrast, with a visible pressed state."""

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty
from kivy.uix.button import Button
from kivy.uix.togglebutton import ToggleButton

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class KioskButton(Button):
    primary = BooleanProperty(False)


class KioskToggle(ToggleButton):
    primary = BooleanProperty(False)
