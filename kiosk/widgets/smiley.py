"""A smiley answer button drawn with canvas shapes: a face whose mouth, brows and eyes differ per
level, and the choice's word under it. Shapes and words carry the meaning; colour only helps."""

from __future__ import annotations

from kivy.graphics import Color, Ellipse, InstructionGroup, Line, RoundedRectangle
from kivy.metrics import dp
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk import theme
from kiosk.widgets.typography import show_text


def mouth_curve(level: int, levels: int) -> float:
    """-1 for the deepest frown, +1 for the broadest smile, evenly spaced between."""
    return -1.0 if levels < 2 else (2.0 * level / (levels - 1)) - 1.0


class SmileyFace(Widget):
    level = NumericProperty(0)
    levels = NumericProperty(4)
    pressed = BooleanProperty(False)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._drawing = InstructionGroup()
        self.canvas.add(self._drawing)
        self.bind(pos=self._redraw, size=self._redraw, level=self._redraw, pressed=self._redraw)

    def _redraw(self, *_: object) -> None:
        group = self._drawing
        group.clear()
        # A margin keeps the outline inside the button; a pressed face shrinks a little.
        radius = min(self.width, self.height) / 2 * (0.84 if self.pressed else 0.9)
        cx, cy = self.center
        level, levels = int(self.level), int(self.levels)
        curve = mouth_curve(level, levels)
        line_width = max(dp(2), radius * 0.07)
        group.add(Color(*theme.FACE_COLOURS[min(level, len(theme.FACE_COLOURS) - 1)]))
        group.add(Ellipse(pos=(cx - radius, cy - radius), size=(2 * radius, 2 * radius)))
        group.add(Color(*theme.FACE_OUTLINE))
        group.add(Line(circle=(cx, cy, radius), width=line_width))
        # Eyes: round dots; the happiest face closes them into smiling arcs.
        eye_dx, eye_y, eye_r = radius * 0.36, cy + radius * 0.22, radius * 0.11
        for side in (-1, 1):
            ex = cx + side * eye_dx
            if curve >= 0.99:
                group.add(Line(circle=(ex, eye_y - eye_r, eye_r * 1.4, -60, 60), width=line_width))
            else:
                group.add(Ellipse(pos=(ex - eye_r, eye_y - eye_r), size=(2 * eye_r, 2 * eye_r)))
            if curve <= -0.99:  # brows slanting down to the nose: unmistakably unhappy
                group.add(
                    Line(
                        points=[
                            ex - side * radius * 0.2,
                            eye_y + radius * 0.32,
                            ex + side * radius * 0.16,
                            eye_y + radius * 0.2,
                        ],
                        width=line_width,
                    )
                )
        # Mouth: a quadratic Bézier whose middle dips for a smile and rises for a frown.
        half, mouth_y = radius * 0.42, cy - radius * 0.34
        depth = radius * 0.32 * curve
        group.add(
            Line(
                bezier=[
                    cx - half,
                    mouth_y + depth / 2,
                    cx,
                    mouth_y - depth,
                    cx + half,
                    mouth_y + depth / 2,
                ],
                width=line_width,
                cap="round",
            )
        )


class SmileyButton(ButtonBehavior, BoxLayout):
    """One smiley choice: `choice_id` is what gets recorded, `text` what the visitor reads (in
    `language`, shaped and wrapped line by line when it reads right to left)."""

    choice_id = StringProperty("")
    text = StringProperty("")
    language = StringProperty("fr")
    # At least this tall for the words: a row shares its tallest, so its faces match in size.
    words_height = NumericProperty(0)
    level = NumericProperty(0)
    levels = NumericProperty(4)
    font_size = NumericProperty(theme.BODY_SIZE)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(orientation="vertical", spacing=dp(10), padding=dp(10), **kwargs)
        with self.canvas.before:
            self._bg_colour = Color(*theme.SURFACE)
            self._bg = RoundedRectangle(radius=[dp(18)])
        self.face = SmileyFace(level=self.level, levels=self.levels)
        self.label = Label(
            text=self.text,
            color=theme.TEXT,
            font_size=self.font_size,
            bold=True,
            halign="center",
            valign="top",
            size_hint_y=None,
        )
        self.label.bind(
            width=lambda lbl, w: setattr(lbl, "text_size", (w, None)),
            texture_size=self._fit_words,
        )
        self.add_widget(self.face)
        self.add_widget(self.label)
        self.bind(
            text=self._show_words,
            language=self._show_words,
            words_height=self._fit_words,
            font_size=self.label.setter("font_size"),
            level=self.face.setter("level"),
            levels=self.face.setter("levels"),
            state=self._on_state,
            pos=self._layout_bg,
            size=self._layout_bg,
        )
        self._show_words()

    def _show_words(self, *_: object) -> None:
        show_text(self.label, self.text, self.language)

    def _fit_words(self, *_: object) -> None:
        self.label.height = max(self.label.texture_size[1], dp(40), self.words_height)

    def _layout_bg(self, *_: object) -> None:
        self._bg.pos, self._bg.size = self.pos, self.size

    def _on_state(self, _: object, state: str) -> None:
        self.face.pressed = state == "down"
        self._bg_colour.rgba = theme.PRESSED if state == "down" else theme.SURFACE


def share_label_height(buttons: list[SmileyButton]) -> None:
    """Give every button's words the height of the tallest, whenever a label changes, so a
    face is never smaller than its neighbours because its words wrap on two lines."""

    def share(*_: object) -> None:
        tallest = max((b.label.texture_size[1] for b in buttons), default=0)
        for button in buttons:
            button.words_height = tallest

    for button in buttons:
        button.label.bind(texture_size=share)
    share()
