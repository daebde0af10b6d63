"""A follow-up question: choices drawn from the survey definition, each one skippable, with a way
back to the previous one. Taps are ignored for a moment after each question appears, so a
double tap answers one question, never two."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.textinput import TextInput
from kivy.uix.widget import Widget

from kiosk import theme
from kiosk.core.i18n import translate
from kiosk.widgets.buttons import KioskButton, KioskToggle
from kiosk.widgets.keyboard import OnScreenKeyboard
from kiosk.widgets.settling import SettlingScreen
from kiosk.widgets.smiley import SmileyButton
from kiosk.widgets.typography import shown
from qualivilles import flow
from qualivilles.flow import FlowState
from qualivilles.survey import Question, QuestionType, localized

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class QuestionScreen(SettlingScreen):
    """Shows `state.question`; dispatches `on_answer(id, value)`, `on_skip(id)`, `on_back()`,
    `on_finish()`."""

    __events__ = ("on_answer", "on_skip", "on_back", "on_finish")

    language = StringProperty("fr")
    landscape = BooleanProperty(True)

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
        self._smiley_grid: GridLayout | None = None
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
        ids.question.text = self._t(
            localized(question.text, lang), ids.question.width, ids.question.font_size
        )
        for widget_id, text in self._action_texts().items():
            ids[widget_id].text = self._t(text)
        is_main = question.id == state.survey.main_question
        _offer(ids.back, position > 1)
        _offer(ids.skip, not is_main)  # the main answer is replaced, never withdrawn
        ids.choices.clear_widgets()
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

    def _reading_order(self, widgets: list[Widget]) -> list[Widget]:
        return widgets[::-1] if self._rtl else widgets

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
        if value:  # nothing picked or typed: the visitor can still skip
            self._answer(value)

    def on_landscape(self, _: object, landscape: bool) -> None:
        if self._smiley_grid is not None:
            self._smiley_grid.cols = len(self._smiley_grid.children) if landscape else 2

    def _smileys(self, question: Question) -> None:
        # A row on a landscape kiosk, two by two on a portrait tablet.
        grid = GridLayout(cols=len(question.choices) if self.landscape else 2, spacing=dp(20))
        self._smiley_grid = grid
        self.ids.choices.add_widget(grid)
        buttons: list[Widget] = []
        for choice in question.choices:
            label = self._t(localized(choice.label, self.language), dp(200), theme.BODY_SIZE)
            if choice.level is None:
                button = KioskButton(text=label)
            else:
                button = SmileyButton(
                    text=label,
                    level=choice.level,
                    levels=question.levels,
                    font_size=theme.BODY_SIZE * _text_scale(),
                )
            button.choice_id = choice.id
            button.bind(on_release=lambda b: self._answer(b.choice_id))
            buttons.append(button)
        levelled_buttons = self._reading_order(buttons[: question.levels])
        for button in [*levelled_buttons, *buttons[question.levels :]]:
            grid.add_widget(button)

    def _choice_grid(self, count: int) -> GridLayout:
        grid = GridLayout(cols=2 if count > 3 else 1, spacing=dp(16))
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
        buttons = []
        for value, label in options:
            button = KioskButton(text=self._t(label))
            button.value = value
            button.bind(on_release=lambda b: self._answer(b.value))
            buttons.append(button)
        for button in self._reading_order(buttons) if grid.cols > 1 else buttons:
            grid.add_widget(button)

    def _toggles(self, question: Question) -> None:
        grid = self._choice_grid(len(question.choices))
        toggles = []
        for choice in question.choices:
            toggle = KioskToggle(text=self._t(localized(choice.label, self.language)))
            toggle.choice_id = choice.id
            toggles.append(toggle)
        for toggle in self._reading_order(toggles):
            grid.add_widget(toggle)
        self._collect = lambda: [t.choice_id for t in toggles if t.state == "down"]

    def _text(self, question: Question) -> None:
        column = BoxLayout(orientation="vertical", spacing=dp(12))
        field = TextInput(
            multiline=True,
            readonly=True,  # typed through the on-screen keyboard only
            font_size=theme.BODY_SIZE,
            hint_text=translate("Votre message (facultatif)", self.language),
            foreground_color=theme.TEXT,
            padding=[dp(16)] * 4,
            size_hint_y=None,
            height=dp(110),
        )
        keyboard = OnScreenKeyboard(max_length=question.max_length, language=self.language)
        keyboard.target = field
        column.add_widget(field)
        column.add_widget(Widget())  # the field under the question, the keys within reach
        column.add_widget(keyboard)
        self.ids.choices.add_widget(column)
        self.text_field, self.keyboard = field, keyboard
        self._collect = lambda: field.text.strip()


def _offer(button: Widget, offered: bool) -> None:
    """Show or hide an action button; a hidden one keeps its place, so the others never move."""
    button.opacity, button.disabled = (1, False) if offered else (0, True)


def _offered(button: Widget) -> bool:
    return not button.disabled


def _text_scale() -> float:
    app = App.get_running_app()
    return float(app.text_scale) if app is not None else 1.0
