"""A follow-up question: choices drawn from the survey definition, each one skippable, with a way
back to the previous one. Taps are ignored for a moment after each question appears, so a
double tap answers one question, never two."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.graphics import Color, Line
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.anchorlayout import AnchorLayout
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.textinput import TextInput
from kivy.uix.widget import Widget

from kiosk import theme
from kiosk.core.i18n import translate
from kiosk.widgets.buttons import KioskButton, KioskToggle
from kiosk.widgets.keyboard import OnScreenKeyboard
from kiosk.widgets.settling import SettlingScreen
from kiosk.widgets.smiley import SmileyButton, share_label_height
from kiosk.widgets.typography import MirroredGrid, fitted_lines, font_for, show_text, shown
from qualivilles import flow
from qualivilles.flow import FlowState
from qualivilles.survey import Question, QuestionType, localized

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

LOW_MODE_SPACER = 0.3  # share of the height left empty above the question in low mode


class QuestionScreen(SettlingScreen):
    """Shows `state.question`; dispatches `on_answer(id, value)`, `on_skip(id)`, `on_back()`,
    `on_finish()`."""

    __events__ = ("on_answer", "on_skip", "on_back", "on_finish")

    language = StringProperty("fr")
    landscape = BooleanProperty(True)
    # The comment's keyboard already sits at the bottom and needs the height for its keys.
    low_mode_spacer = NumericProperty(LOW_MODE_SPACER)

    def on_answer(self, question_id: str, value: Any) -> None:
        """Event: the current question was answered."""

    def on_skip(self, question_id: str) -> None:
        """Event: the visitor skipped the current question."""

    def on_back(self) -> None:
        """Event: the visitor wants the previous question again."""

    def on_finish(self) -> None:
        """Event: the visitor wants to stop here."""

    def on_kv_post(self, _: object) -> None:
        self._question: Question | None = None
        self._collect: Callable[[], Any] | None = None
        self._smiley_grid: MirroredGrid | None = None
        self._nothing_to_validate: Callable[[], None] = lambda: None
        self.ids.skip.bind(on_release=lambda _: self._skip())
        self.ids.back.bind(on_release=lambda _: self.dispatch("on_back"))
        self.ids.finish.bind(on_release=lambda _: self.dispatch("on_finish"))
        self.ids.confirm.bind(on_release=lambda _: self._confirm())
        self.bind(size=lambda _, size: setattr(self, "landscape", size[0] >= size[1]))

    def _t(self, text: str, width: float = 0, font_size: float = 1) -> str:
        return shown(text, self.language, width, font_size)

    def _action_texts(self) -> dict[str, str]:
        """The action buttons' words, by id, in the visitor's language (not yet shaped)."""
        lang = self.language
        return {
            "back": translate("Retour", lang),
            "skip": translate("Passer cette question", lang),
            "confirm": translate("Valider", lang),
            "finish": translate("Terminer", lang),
        }

    def show(self, state: FlowState) -> None:
        question = state.question
        assert question is not None
        self.settle()  # a new question under the finger: the rest of a double tap is ignored
        self._question, self._collect, self._smiley_grid = question, None, None
        self._state = state
        lang, ids = self.language, self.ids
        position, total = flow.progress(state)
        ids.progress.text = self._t(
            translate("Question {n} sur {total}", lang, n=position, total=total)
        )
        show_text(ids.question, localized(question.text, lang), lang)
        for widget_id, text in self._action_texts().items():
            show_text(ids[widget_id], text, lang)
        is_main = question.id == state.survey.main_question
        _offer(ids.back, position > 1)
        _offer(ids.skip, not is_main)  # the main answer is replaced, never withdrawn
        ids.choices.clear_widgets()
        self.low_mode_spacer = LOW_MODE_SPACER
        self._nothing_to_validate = lambda: None
        builder = {
            QuestionType.SMILEY: self._smileys,
            QuestionType.MULTIPLE_CHOICE: self._toggles,
            QuestionType.TEXT: self._text,
        }.get(question.type, self._buttons)
        builder(question)
        _offer(ids.confirm, self._collect is not None)
        self._mirror_actions()

    @property
    def typing(self) -> bool:
        """Whether the visitor has started typing an answer to a text question."""
        field = getattr(self, "text_field", None)
        on_text = self._question is not None and self._question.type == QuestionType.TEXT
        return on_text and field is not None and bool(field.text)

    def spoken_text(self) -> str:
        """What is on screen, to be read aloud: the question, its choices, then the buttons."""
        question = self._question
        if question is None:
            return ""
        lang = self.language
        if question.type == QuestionType.YES_NO:
            choices = [translate("Oui", lang), translate("Non", lang)]
        elif question.type == QuestionType.SCALE_0_10:
            choices = ["0 … 10"]
        else:
            choices = [localized(c.label, lang) for c in question.choices]
        texts = self._action_texts()
        buttons = [texts[i] for i in ("back", "skip", "confirm", "finish") if _offered(self.ids[i])]
        said = f"{localized(question.text, lang)} {', '.join(choices)}"
        return f"{said}. {', '.join(buttons)}" if buttons else said

    @property
    def _rtl(self) -> bool:
        app = App.get_running_app()
        return bool(app is not None and app.rtl)

    def _mirror_actions(self) -> None:
        """Right to left: "skip" on the right, "finish" on the left."""
        actions = self.ids.actions
        wanted = [self.ids.back, self.ids.skip, self.ids.confirm, self.ids.finish]
        if self._rtl:
            wanted.reverse()
        if list(reversed(actions.children)) != wanted:
            for widget in wanted:
                actions.remove_widget(widget)
                actions.add_widget(widget)

    def _grid(self, cols: int, spacing: float) -> MirroredGrid:
        """A choice grid filled in reading order (from the right in right-to-left languages)."""
        return MirroredGrid(cols=cols, spacing=spacing, rtl=self._rtl)

    def _answer(self, value: Any) -> None:
        if self._question is not None:
            self.dispatch("on_answer", self._question.id, value)

    def _skip(self) -> None:
        if self._question is not None:
            self.dispatch("on_skip", self._question.id)

    def _confirm(self) -> None:
        if self._collect is None:
            return
        value = self._collect()
        if value:
            self._answer(value)
        else:  # say so: a silent button looks broken
            self._nothing_to_validate()

    def on_landscape(self, _: object, landscape: bool) -> None:
        if self._smiley_grid is not None:
            self._smiley_grid.cols = len(self._smiley_grid.children) if landscape else 2
            for apart in self._smiley_grid.parent.children[:-1]:
                apart.children[0].size_hint_x = 0.4 if landscape else 1

    def _smileys(self, question: Question) -> None:
        # A row on a landscape kiosk, two by two on a portrait tablet; "no opinion" is not on
        # the scale, so it stays apart, under the faces, last in reading order.
        column = BoxLayout(orientation="vertical", spacing=dp(20))
        grid = self._grid(question.levels if self.landscape else 2, dp(20))
        self._smiley_grid = grid
        column.add_widget(grid)
        faces: list[SmileyButton] = []
        for choice in sorted(
            (c for c in question.choices if c.level is not None), key=lambda c: c.level or 0
        ):
            face = SmileyButton(
                choice_id=choice.id,
                text=localized(choice.label, self.language),
                language=self.language,
                level=choice.level,
                levels=question.levels,
                font_size=theme.BODY_SIZE * _text_scale(),
            )
            face.bind(on_release=lambda b: self._answer(b.choice_id))
            grid.add_widget(face)
            faces.append(face)
        share_label_height(faces)
        for choice in question.choices:
            if choice.level is not None:
                continue
            apart = AnchorLayout(size_hint_y=None, height=theme.BUTTON_HEIGHT)
            button = KioskButton(size_hint_x=0.4 if self.landscape else 1)
            show_text(button, localized(choice.label, self.language), self.language)
            button.choice_id = choice.id
            button.bind(on_release=lambda b: self._answer(b.choice_id))
            apart.add_widget(button)
            column.add_widget(apart)
        self.ids.choices.add_widget(column)

    def _choice_grid(self, count: int) -> MirroredGrid:
        grid = self._grid(2 if count > 3 else 1, dp(16))
        self.ids.choices.add_widget(grid)
        return grid

    def _buttons(self, question: Question) -> None:
        options: list[tuple[Any, str]]
        if question.type == QuestionType.YES_NO:
            options = [
                ("yes", translate("Oui", self.language)),
                ("no", translate("Non", self.language)),
            ]
        elif question.type == QuestionType.SCALE_0_10:
            options = [(n, str(n)) for n in range(11)]
        else:
            options = [(c.id, localized(c.label, self.language)) for c in question.choices]
        grid = self._choice_grid(len(options))
        if question.type == QuestionType.SCALE_0_10:
            grid.cols = 11 if self.landscape else 6
        for value, label in options:
            button = KioskButton()
            show_text(button, label, self.language)
            button.value = value
            button.bind(on_release=lambda b: self._answer(b.value))
            grid.add_widget(button)

    def _toggles(self, question: Question) -> None:
        lang = self.language
        column = BoxLayout(orientation="vertical", spacing=dp(12))
        self.ids.choices.add_widget(column)
        grid = self._grid(2 if len(question.choices) > 3 else 1, dp(16))
        column.add_widget(grid)
        toggles = []
        for choice in question.choices:
            toggle = KioskToggle()
            show_text(toggle, localized(choice.label, self.language), self.language)
            toggle.choice_id = choice.id
            grid.add_widget(toggle)
            toggles.append(toggle)
        self._collect = lambda: [t.choice_id for t in toggles if t.state == "down"]
        notice = Label(
            color=theme.TEXT,
            font_size=theme.BODY_SIZE * _text_scale(),
            bold=True,
            halign="center",
            valign="middle",
            size_hint_y=None,
            height=0,
        )
        notice.bind(width=lambda lbl, w: setattr(lbl, "text_size", (w, None)))
        notice.bind(texture_size=lambda lbl, ts: setattr(lbl, "height", ts[1] if lbl.text else 0))
        column.add_widget(notice)
        self.notice = notice

        def nothing_to_validate() -> None:
            message = translate("Choisissez au moins une réponse ou passez la question", lang)
            show_text(notice, message, lang)

        self._nothing_to_validate = nothing_to_validate

    def _text(self, question: Question) -> None:
        lang = self.language
        self.low_mode_spacer = 0
        column = BoxLayout(orientation="vertical", spacing=dp(12))
        field = TextInput(
            multiline=True,
            readonly=True,  # typed through the on-screen keyboard only
            font_name=font_for(lang),
            font_size=theme.BODY_SIZE * _text_scale(),
            halign="right" if self._rtl else "left",
            hint_text_color=theme.PLACEHOLDER,
            foreground_color=theme.TEXT,
            background_normal="",
            background_active="",
            background_color=theme.SURFACE,
            padding=[dp(16), dp(10)],
            size_hint_y=None,
        )
        with field.canvas.after:  # the field's edge, visible (3:1) on the paper background
            Color(*theme.OUTLINE)
            edge = Line(width=dp(1.5))
        field.bind(pos=lambda f, _: _outline(edge, f), size=lambda f, _: _outline(edge, f))
        # Two lines of text: room for a short comment and for the message below, in any size.
        field.height = field.font_size * 1.25 * 2 + dp(20)
        keyboard = OnScreenKeyboard(
            max_length=question.max_length,
            language=lang,
            size_hint_y=100,  # takes the height first, up to comfortable keys; the rest above
            size_hint_max_y=dp(68) * 4 + dp(8) * 3,
        )
        keyboard.target = field
        column.add_widget(field)
        column.add_widget(Widget())  # the field under the question, the keys within reach
        column.add_widget(keyboard)
        self.ids.choices.add_widget(column)
        self.text_field, self.keyboard = field, keyboard
        self._collect = lambda: keyboard.value.strip()

        placeholder = {"message": translate("Votre message (facultatif)", lang)}

        def show_placeholder(*_: object) -> None:
            room = field.width - field.padding[0] - field.padding[2]
            field.hint_text = fitted_lines(
                placeholder["message"], lang, room, field.font_name, field.font_size, bold=False
            )

        def nothing_to_validate() -> None:
            # Where the visitor looks: the empty field, now asking for words in full contrast.
            placeholder["message"] = translate("Écrivez quelques mots ou passez la question", lang)
            field.hint_text_color = theme.TEXT
            show_placeholder()

        field.bind(width=show_placeholder)
        show_placeholder()
        self._nothing_to_validate = nothing_to_validate


def _outline(edge: Line, widget: Widget) -> None:
    edge.rectangle = (widget.x, widget.y, widget.width, widget.height)


def _offer(button: Widget, offered: bool) -> None:
    """Show or hide an action button; a hidden one keeps its place, so the others never move."""
    button.opacity, button.disabled = (1, False) if offered else (0, True)


def _offered(button: Widget) -> bool:
    return not button.disabled


def _text_scale() -> float:
    app = App.get_running_app()
    return float(app.text_scale) if app is not None else 1.0
