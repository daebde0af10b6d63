"""The Kivy application: thin screens over a `VisitorSession`.

Screens only show state and forward taps; recording happens in `VisitorSession` (core, no Kivy)
and syncing in a background thread, whose reports come back on the main thread through
`Clock.schedule_once`. Nothing here waits on the network.

One visitor, one response: a follow-up left untouched for a few seconds closes the response as
partial and frees the kiosk (`kiosk.core.idle`); the thank-you screen carries the main question,
so the next visitor starts their own response at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from kivy.clock import Clock, ClockEvent
from kivy.core.window import Window
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.core.idle import IdleLimit, idle_limit
from kiosk.core.rtl import is_rtl
from kiosk.core.staff_access import StaffAccess
from kiosk.core.staff_status import staff_status
from kiosk.core.store import KioskStore
from kiosk.core.visitor import DeskConfig, VisitorSession
from kiosk.lockdown import LockedDownApp, lock_down
from kiosk.platform.speech import Speaker
from kiosk.screens.attract import AttractScreen
from kiosk.screens.closed import ClosedScreen
from kiosk.screens.pin import PinScreen
from kiosk.screens.question import QuestionScreen
from kiosk.screens.staff import StaffScreen
from kiosk.screens.thanks import ThanksScreen
from kiosk.widgets.hidden_corner import HiddenCorner
from kiosk.widgets.still_there import StillTherePrompt
from kiosk.widgets.typography import font_for
from qualivilles import opening_hours
from qualivilles.flow import FlowState

LARGE_TEXT_SCALE = 1.3
OPENING_CHECK_SECONDS = 30.0


class BackgroundSync:
    """What the app needs of a sync worker (kiosk.core.sync.SyncWorker fits)."""

    def start(self) -> None: ...
    def wake(self) -> None: ...
    def stop(self) -> None: ...


class KioskApp(LockedDownApp):
    language = StringProperty("fr")
    # Accessibility, chosen by each visitor and reset for the next one.
    low_mode = BooleanProperty(False)
    large_text = BooleanProperty(False)
    speech = BooleanProperty(False)
    text_scale = NumericProperty(1.0)
    font_name = StringProperty("Roboto")
    rtl = BooleanProperty(False)

    def __init__(
        self,
        session: VisitorSession,
        *,
        worker: BackgroundSync | None = None,
        config_source: Callable[[], DeskConfig | None] | None = None,
        store: KioskStore | None = None,
        speaker: Speaker | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.worker = worker
        self.config_source = config_source
        self.store = store  # for the staff side: PIN and sync state; None in visitor-only tests
        self.speaker = speaker or Speaker()
        self.wall_clock = clock
        self.title = "Qualivilles – votre avis"
        self._inactivity: ClockEvent | None = None
        self._idle_limit: IdleLimit | None = None
        self._thanks_timer: ClockEvent | None = None
        self._opening_check: ClockEvent | None = None
        self.prompt: StillTherePrompt | None = None
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
            on_back=lambda _: self.on_back(),
            on_finish=lambda _: self.on_finish(),
        )
        self.thanks = ThanksScreen(
            name="thanks", on_choice=lambda _, choice: self.on_main_choice(choice)
        )
        self.closed = ClosedScreen(name="closed")
        for screen in (self.attract, self.question, self.thanks, self.closed):
            self.bind(language=screen.setter("language"))
            self.manager.add_widget(screen)
        if self.store is not None:
            self._build_staff_side(self.store)
        self.attract.desk = self.session.config
        self.attract.refresh()
        Window.bind(on_touch_down=self._on_any_touch, on_touch_up=self._on_any_touch)
        Window.bind(on_request_close=self._refuse_close)
        self._opening_check = Clock.schedule_interval(
            self.check_opening_hours, OPENING_CHECK_SECONDS
        )
        self.check_opening_hours()
        return self.manager

    def _build_staff_side(self, store: KioskStore) -> None:
        """PIN and staff screens, reached by holding a hidden corner for a few seconds."""
        self.pin = PinScreen(
            name="pin",
            access=StaffAccess(store),
            on_unlocked=lambda _: setattr(self.manager, "current", "staff"),
            on_cancel=lambda _: self.back_to_attract(),
        )
        self.staff = StaffScreen(
            name="staff",
            status_source=lambda: staff_status(store, self.session.config),
            on_sync_now=lambda _: self._wake_sync(),
            on_close=lambda _: self.back_to_attract(),
            on_exit=lambda _: self.stop(),
        )
        for screen in (self.pin, self.staff):
            self.bind(language=screen.setter("language"))
            self.manager.add_widget(screen)
        self.corners = []
        for screen in (self.attract, self.closed):
            corner = HiddenCorner(on_long_press=lambda _: self.open_pin())
            screen.add_widget(corner)
            self.corners.append(corner)
        self._place_corners()
        self.bind(rtl=self._place_corners)

    def _place_corners(self, *_: object) -> None:
        # Opposite the language buttons, which move to the left in right-to-left languages.
        for corner in self.corners:
            corner.pos_hint = {"right": 1, "top": 1} if self.rtl else {"x": 0, "top": 1}

    def open_pin(self) -> None:
        if self.manager.current in ("attract", "closed"):
            self.manager.current = "pin"

    def on_start(self) -> None:
        lock_down(Window)
        if self.worker is not None:
            self.worker.start()

    def on_stop(self) -> None:
        self._stopped = True
        self.session.time_out()  # a visitor cut short by a shutdown is kept as partial
        for event in (self._inactivity, self._thanks_timer, self._opening_check):
            if event is not None:
                event.cancel()
        if self.prompt is not None:
            self.prompt.dismiss(animation=False)
        self.attract.stop()
        Window.unbind(on_touch_down=self._on_any_touch, on_touch_up=self._on_any_touch)
        Window.unbind(on_request_close=self._refuse_close)
        self.speaker.stop()
        if self.worker is not None:
            self.worker.stop()

    def _refuse_close(self, *_: object, source: str | None = None, **__: object) -> bool:
        """A visitor cannot close the kiosk from the keyboard (Escape, Alt-F4); only the staff
        screen can. A quit request from the system (SIGTERM from systemd arrives as a quit
        event with no source) is honoured, so the service manager can stop the app."""
        return source == "keyboard" and not self._stopped

    # --- accessibility and language -------------------------------------------------------
    def on_large_text(self, _: object, large: bool) -> None:
        self.text_scale = LARGE_TEXT_SCALE if large else 1.0

    def on_speech(self, _: object, enabled: bool) -> None:
        if enabled:
            self._read_aloud()
        else:
            self.speaker.stop()

    def set_language(self, language: str) -> None:
        # Font and direction first, so the screens redraw once, in the right script.
        self.font_name = font_for(language)
        self.rtl = is_rtl(language)
        self.language = language
        self.attract.refresh()
        self._read_aloud()

    def _read_aloud(self) -> None:
        """Say what is on screen: the texts, the choices and every button offered."""
        if not self.speech:
            return
        screen = {"question": self.question, "thanks": self.thanks}.get(
            self.manager.current, self.attract
        )
        self.speaker.speak(screen.spoken_text(), self.language)

    # --- the visitor's path ---------------------------------------------------------------
    def on_main_choice(self, choice_id: str) -> None:
        self._show(self.session.tap_main(choice_id, self.language))

    def on_answer(self, question_id: str, value: Any) -> None:
        self._show(self.session.answer(question_id, value))

    def on_skip(self, question_id: str) -> None:
        self._show(self.session.skip(question_id))

    def on_back(self) -> None:
        self._show(self.session.back())

    def on_finish(self) -> None:
        self._show(self.session.finish())

    def _show(self, state: FlowState) -> None:
        self._cancel_thanks_timer()  # a new visitor may start on the thank-you screen
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
        self._read_aloud()

    def _cancel_thanks_timer(self) -> None:
        if self._thanks_timer is not None:
            self._thanks_timer.cancel()
            self._thanks_timer = None

    def back_to_attract(self, *_: object) -> None:
        """Ready for the next visitor: French again, default display, nothing of the previous
        visitor on screen."""
        self._cancel_inactivity()
        self._cancel_thanks_timer()
        self.low_mode = self.large_text = self.speech = False
        self.attract.reset_accessibility_panel()
        self.set_language(self.session.config.settings.languages[0])
        self.attract.desk = self.session.config
        self.attract.refresh()
        self.manager.current = "attract"
        self.check_opening_hours()

    def check_opening_hours(self, *_: object) -> None:
        """Between visitors, show "closed" outside the desk's opening hours."""
        if self.manager.current not in ("attract", "closed"):
            return
        settings = self.session.config.settings
        local_now = self.wall_clock().astimezone(ZoneInfo(settings.timezone))
        if opening_hours.is_open(settings.opening_hours, local_now):
            self.manager.current = "attract"
        else:
            self.closed.show(self.session.config, local_now)
            self.manager.current = "closed"

    # --- inactivity -----------------------------------------------------------------------
    def _on_any_touch(self, *_: object) -> None:
        # After the screen has taken the touch: a key just typed makes the visitor one who types.
        Clock.schedule_once(self._touched, 0)

    def _touched(self, *_: object) -> None:
        if self.manager.current == "question" and self.prompt is None:
            self._restart_inactivity()

    def _restart_inactivity(self) -> None:
        self._cancel_inactivity()
        self._idle_limit = idle_limit(self.session.config.settings, typing=self.question.typing)
        self._inactivity = Clock.schedule_once(self._on_idle, self._idle_limit.seconds)

    def _cancel_inactivity(self) -> None:
        if self._inactivity is not None:
            self._inactivity.cancel()
            self._inactivity = None

    def _on_idle(self, *_: object) -> None:
        """The visitor has gone: free the kiosk, asking first only one who was typing."""
        if self._idle_limit is not None and self._idle_limit.ask_first:
            self._on_inactive()
        else:
            self._visitor_gone()

    def _on_inactive(self, *_: object) -> None:
        """Ask "are you still there?" before giving up on the visitor."""
        self.prompt = StillTherePrompt(
            seconds=int(self.session.config.settings.still_there_seconds),
            language=self.language,
            on_stay=lambda _: self._visitor_stayed(),
            on_gone=lambda _: self._visitor_gone(),
        )
        self.prompt.start()

    def _visitor_stayed(self) -> None:
        self.prompt = None
        self._restart_inactivity()

    def _visitor_gone(self) -> None:
        self.prompt = None
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
        if self.store is not None and not self._stopped:
            self.staff.show_sync_report(report)
        if self._stopped or self.config_source is None:  # a late report after shutdown
            return
        desk = self.config_source()
        if desk is None or desk == self.session.config:
            return
        if self.session.offer_config(desk) and self.manager.current in ("attract", "closed"):
            self.attract.desk = desk
            self.attract.refresh()
            self.check_opening_hours()
