"""The kiosk's plain buttons: big, rounded, high-contrast, with a visible pressed state."""

from kivy.lang import Builder
from kivy.properties import BooleanProperty
from kivy.uix.button import Button
from kivy.uix.togglebutton import ToggleButton

Builder.load_string(
    """
#:import theme kiosk.theme
<KioskButton,KioskToggle>:
    background_normal: ""
    background_down: ""
    background_color: 0, 0, 0, 0
    color: theme.ON_PRIMARY if (self.primary and self.state == "normal") else theme.TEXT
    font_size: theme.BODY_SIZE
    bold: True
    size_hint_min_y: theme.TOUCH_TARGET * 0.75
    halign: "center"
    valign: "middle"
    text_size: self.width - dp(24), None
    canvas.before:
        Color:
            rgba: theme.PRESSED if self.state == "down" else (theme.PRIMARY if self.primary else theme.SURFACE)
        RoundedRectangle:
            pos: self.pos
            size: self.size
            radius: [dp(16)]
        Color:
            rgba: theme.OUTLINE
        Line:
            rounded_rectangle: (self.x, self.y, self.width, self.height, dp(16))
            width: dp(3) if self.state == "down" else dp(1.5)
"""
)


class KioskButton(Button):
    primary = BooleanProperty(False)


class KioskToggle(ToggleButton):
    primary = BooleanProperty(False)
