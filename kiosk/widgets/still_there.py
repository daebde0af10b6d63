""" "Are you still there?": a short last chance before an idle visitor's answers are kept as
partial and the kiosk resets for the next visitor."""

from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock, ClockEvent
from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.modalview import ModalView

from kiosk.core.i18n import translate
from kiosk.widgets.buttons import KioskButton  # noqa: F401 (used by the .kv rule)
from kiosk.widgets.typography import shown

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class StillTherePrompt(ModalView):
    """Dispatches `on_stay` when the visitor answers, `on_gone` when the countdown ends."""

    __events__ = ("on_stay", "on_gone")

    seconds_left = NumericProperty(10)
    language = StringProperty("fr")

    def __init__(self, seconds: int = 10, language: str = "fr", **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.seconds_left, self.language = seconds, language
        self._tick: ClockEvent | None = None
        self._render()

    def on_stay(self) -> None:
        """Event: the visitor is still there."""

    def on_gone(self) -> None:
        """Event: nobody answered before the end of the countdown."""

    def start(self) -> None:
        self.open(animation=False)
        self._tick = Clock.schedule_interval(self._count_down, 1.0)

    def stay(self) -> None:
        self._close()
        self.dispatch("on_stay")

    def _count_down(self, _dt: float) -> None:
        self.seconds_left -= 1
        self._render()
        if self.seconds_left <= 0:
            self._close()
            self.dispatch("on_gone")

    def _close(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
        self.dismiss(animation=False)

    def _render(self) -> None:
        lang = self.language
        self.ids.question.text = shown(translate("Êtes-vous toujours là ?", lang), lang, 0, 1)
        self.ids.countdown.text = shown(
            translate("Le questionnaire recommence dans {n} s.", lang, n=int(self.seconds_left)),
            lang,
            0,
            1,
        )
        self.ids.stay.text = shown(translate("Oui, je continue", lang), lang, 0, 1)
