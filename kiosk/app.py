"""The Kivy application: three thin screens over a `VisitorSession`.

Screens only show state and forward taps; recording happens in `VisitorSession` (core, no Kivy)
and syncing in a background thread, whose reports come back on the main thread through
`Clock.schedule_once`. Nothing here waits on the network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.clock import Clock, ClockEvent
from kivy.core.window import Window
from kivy.properties import StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.core.flow import FlowState
from kiosk.core.visitor import DeskConfig, VisitorSession
from kiosk.screens.attract import AttractScreen
from kiosk.screens.question import QuestionScreen
from kiosk.screens.thanks import ThanksScreen


class BackgroundSync:
    """What the app needs of a sync worker (kiosk.core.sync.SyncWorker fits)."""

    def start(self) -> None: ...
    def wake(self) -> None: ...
    def stop(self) -> None: ...


class KioskApp(App):
    language = StringProperty("fr")

    def __init__(
        self,
        session: VisitorSession,
        *,
        worker: BackgroundSync | None = None,
        config_source: Callable[[], DeskConfig | None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.worker = worker
        self.config_source = config_source
        self.title = "Qualivilles – votre avis"
        self._inactivity: ClockEvent | None = None
        self._thanks_timer: ClockEvent | None = None
        self._stopped = False

    # --- assembly -------------------------------------------------------------------------
    def build(self) -> ScreenManager:
        self.manager = ScreenManager(transition=NoTransition())
        self.attract = AttractScreen(
            name="attract",
            on_choice=lambda _, choice: self.on_main_choice(choice),
            on_language_chosen=lambda _, language: self.set_language(language),
        )
        self.question = QuestionScreen(
            name="question",
            on_answer=lambda _, question_id, value: self.on_answer(question_id, value),
            on_skip=lambda _, question_id: self.on_skip(question_id),
            on_finish=lambda _: self.on_finish(),
        )
        self.thanks = ThanksScreen(name="thanks")
        for screen in (self.attract, self.question, self.thanks):
            self.bind(language=screen.setter("language"))
            self.manager.add_widget(screen)
        self.attract.desk = self.session.config
        self.attract.refresh()
        Window.bind(on_touch_down=self._on_any_touch)
        return self.manager

    def on_start(self) -> None:
        if self.worker is not None:
            self.worker.start()

    def on_stop(self) -> None:
        self._stopped = True
        self.session.time_out()  # a visitor cut short by a shutdown is kept as partial
        if self.worker is not None:
            self.worker.stop()

    # --- the visitor's path ---------------------------------------------------------------
    def set_language(self, language: str) -> None:
        self.language = language
        self.attract.refresh()

    def on_main_choice(self, choice_id: str) -> None:
        self._show(self.session.tap_main(choice_id, self.language))

    def on_answer(self, question_id: str, value: Any) -> None:
        self._show(self.session.answer(question_id, value))

    def on_skip(self, question_id: str) -> None:
        self._show(self.session.skip(question_id))

    def on_finish(self) -> None:
        self._show(self.session.finish())

    def _show(self, state: FlowState) -> None:
        if state.finished:
            self._cancel_inactivity()
            self.thanks.show(self.session.config)
            self.manager.current = "thanks"
            self._thanks_timer = Clock.schedule_once(
                self.back_to_attract, self.session.config.settings.thank_you_seconds
            )
            self._wake_sync()
        else:
            self.question.show(state)
            self.manager.current = "question"
            self._restart_inactivity()

    def back_to_attract(self, *_: object) -> None:
        """Ready for the next visitor: French again, nothing of the previous one on screen."""
        self._cancel_inactivity()
        if self._thanks_timer is not None:
            self._thanks_timer.cancel()
        self.language = self.session.config.settings.languages[0]
        self.attract.desk = self.session.config
        self.attract.refresh()
        self.manager.current = "attract"

    # --- inactivity -----------------------------------------------------------------------
    def _on_any_touch(self, *_: object) -> None:
        if self.manager.current == "question":
            self._restart_inactivity()

    def _restart_inactivity(self) -> None:
        self._cancel_inactivity()
        self._inactivity = Clock.schedule_once(
            self._on_inactive, self.session.config.settings.inactivity_timeout_seconds
        )

    def _cancel_inactivity(self) -> None:
        if self._inactivity is not None:
            self._inactivity.cancel()
            self._inactivity = None

    def _on_inactive(self, *_: object) -> None:
        self.session.time_out()  # durable as partial before the screen resets
        self._wake_sync()
        self.back_to_attract()

    # --- sync -----------------------------------------------------------------------------
    def _wake_sync(self) -> None:
        if self.worker is not None:
            self.worker.wake()

    def on_sync_report(self, report: object) -> None:
        """Called from the sync thread; the work is moved to the Kivy main thread."""
        Clock.schedule_once(lambda _dt: self._apply_sync_report(report))

    def _apply_sync_report(self, report: object) -> None:
        self.last_sync_report = report
        if self._stopped or self.config_source is None:  # a late report after shutdown
            return
        desk = self.config_source()
        if desk is None or desk == self.session.config:
            return
        if self.session.offer_config(desk) and (
            self.manager.current == "attract"
        ):
            self.attract.desk = desk
            self.attract.refresh()
