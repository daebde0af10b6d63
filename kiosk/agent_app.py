"""The agent tablet: thin screens over a `WaitQueue` (kiosk.core.wait_queue).

Each tap is recorded (durably) by the queue before the screen changes; elapsed times tick once
a second; the closing rule runs at start-up and every 30 seconds. Syncing is the same
background worker as the kiosk's; nothing here waits on the network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.clock import Clock, ClockEvent
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.core.agent_desk import AgentDesk, visit_link
from kiosk.core.device_state import Credentials
from kiosk.core.i18n import translate
from kiosk.core.wait_queue import QueueError, Visit, VisitStatus, WaitQueue
from kiosk.screens.agent_qr import AgentQRScreen
from kiosk.screens.agent_queue import AgentQueueScreen, QueueRow
from kiosk.screens.agent_summary import AgentSummaryScreen
from qualivilles.protocol import VisitEvent

TICK_SECONDS = 1.0
CLOSING_CHECK_SECONDS = 30.0


class AgentApp(App):
    # Read by the shared kv rules (buttons, typography).
    language = StringProperty("fr")
    text_scale = NumericProperty(1.0)
    font_name = StringProperty("Roboto")
    rtl = BooleanProperty(False)
    low_mode = BooleanProperty(False)

    def __init__(
        self,
        queue: WaitQueue,
        *,
        desk: AgentDesk | None = None,
        credentials: Callable[[], Credentials | None] = lambda: None,
        desk_source: Callable[[], AgentDesk | None] | None = None,
        worker: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.queue = queue
        self.desk = desk or AgentDesk()
        self.credentials = credentials
        self.desk_source = desk_source
        self.worker = worker
        self.title = "Qualivilles – file d'attente"
        self.last_visit_id: str | None = None
        self._events: list[ClockEvent] = []
        self._stopped = False

    def build(self) -> ScreenManager:
        self.manager = ScreenManager(transition=NoTransition())
        self.queue_screen = AgentQueueScreen(
            name="agent_queue",
            on_arrive=lambda _, reason: self.arrive(reason),
            on_take=lambda _, visit_id: self._tap(self.queue.take_in_charge, visit_id),
            on_walk_out=lambda _, visit_id: self._tap(self.queue.walked_out, visit_id),
            on_undo=lambda _, visit_id: self._tap(self.queue.undo, visit_id),
            on_show_qr=lambda _, visit_id: self.show_qr(visit_id),
            on_summary=lambda _: self.show_summary(),
        )
        self.summary_screen = AgentSummaryScreen(
            name="agent_summary", on_back=lambda _: self.back_to_queue()
        )
        self.qr_screen = AgentQRScreen(name="agent_qr", on_back=lambda _: self.back_to_queue())
        for screen in (self.queue_screen, self.summary_screen, self.qr_screen):
            self.bind(language=screen.setter("language"))
            self.manager.add_widget(screen)
        self.apply_desk(self.desk)
        self.check_closing()
        self._events = [
            Clock.schedule_interval(self.tick, TICK_SECONDS),
            Clock.schedule_interval(self.check_closing, CLOSING_CHECK_SECONDS),
        ]
        return self.manager

    def on_start(self) -> None:
        if self.worker is not None:
            self.worker.start()

    def on_stop(self) -> None:
        self._stopped = True
        for event in self._events:
            event.cancel()
        if self.worker is not None:
            self.worker.stop()

    def _on_any_touch(self, *_: object) -> None:
        """Nothing times out on the tablet (the test harness unbinds this like the kiosk's)."""

    # --- display ----------------------------------------------------------------------------
    def apply_desk(self, desk: AgentDesk) -> None:
        self.desk = desk
        self.queue_screen.set_labels(desk.desk_name)
        self.queue_screen.set_reasons(desk.reasons)
        self.refresh()

    def rows(self) -> list[QueueRow]:
        threshold = self.desk.wait_threshold_minutes * 60
        rows = []
        for visit in self.queue.waiting():
            elapsed = self.queue.elapsed(visit)
            rows.append(
                QueueRow(
                    visit_id=visit.id,
                    ticket=visit.ticket,
                    reason=self.desk.reason_label(visit.reason),
                    elapsed_seconds=elapsed.seconds,
                    estimated=elapsed.estimated,
                    over_threshold=elapsed.seconds > threshold,
                    # A row's own undo takes back its arrival (the last action bar does the rest).
                    undo_seconds=(
                        self.queue.undo_left(visit.id)
                        if visit.last_event == VisitEvent.ARRIVED
                        else 0.0
                    ),
                )
            )
        return rows

    def refresh(self) -> None:
        self.queue_screen.show_rows(self.rows())
        self._show_last_action()

    def tick(self, *_: object) -> None:
        if not self._stopped and self.manager.current == "agent_queue":
            self.refresh()

    def _show_last_action(self) -> None:
        screen, lang = self.queue_screen, self.language
        screen.last_visit_id = self.last_visit_id
        if self.last_visit_id is None:
            screen.show_last_action(
                translate("Touchez « Visiteur arrivé » à chaque arrivée", lang), 0, False
            )
            return
        visit = self.queue.visit(self.last_visit_id)
        done = {
            VisitStatus.WAITING: translate("{ticket} en attente", lang, ticket=visit.ticket),
            VisitStatus.SERVED: translate("{ticket} pris en charge", lang, ticket=visit.ticket),
            VisitStatus.WALKED_OUT: translate(
                "{ticket} parti sans être servi", lang, ticket=visit.ticket
            ),
            VisitStatus.UNKNOWN: translate(
                "{ticket} clos à la fermeture", lang, ticket=visit.ticket
            ),
            VisitStatus.CANCELLED: translate("{ticket} annulé", lang, ticket=visit.ticket),
        }[visit.status]
        can_link = visit.status == VisitStatus.SERVED and self._link(visit) is not None
        screen.show_last_action(done, self.queue.undo_left(visit.id), can_link)

    # --- taps -------------------------------------------------------------------------------
    def arrive(self, reason: str | None) -> Visit:
        visit = self.queue.arrive(reason)
        self.last_visit_id = visit.id
        self._after_tap()
        return visit

    def _tap(self, action: Callable[[str], Visit], visit_id: str) -> None:
        try:
            action(visit_id)
        except QueueError:
            pass  # a double tap or an expired undo: the refresh shows the truth
        else:
            self.last_visit_id = visit_id
        self._after_tap()

    def _after_tap(self) -> None:
        self.refresh()
        if self.worker is not None:
            self.worker.wake()

    def _link(self, visit: Visit) -> str | None:
        return visit_link(self.credentials(), self.desk, visit.id, self.queue.clock.now())

    def show_qr(self, visit_id: str) -> None:
        visit = self.queue.visit(visit_id)
        url = self._link(visit)
        if url is None or visit.status != VisitStatus.SERVED:
            return
        self.qr_screen.show(visit.ticket, url)
        self.manager.current = "agent_qr"

    def show_summary(self) -> None:
        self.summary_screen.show(
            self.queue.summary(self.desk.wait_threshold_minutes), self.desk.wait_threshold_minutes
        )
        self.manager.current = "agent_summary"

    def back_to_queue(self) -> None:
        self.manager.current = "agent_queue"
        self.refresh()

    # --- rules and sync ---------------------------------------------------------------------
    def check_closing(self, *_: object) -> None:
        """Closing time: visits still waiting end as "unknown outcome" (counted, no wait)."""
        if self.queue.close_if_due(self.desk.opening_hours):
            self.refresh()
            if self.worker is not None:
                self.worker.wake()

    def on_sync_report(self, report: object) -> None:
        """From the sync thread: a new configuration is applied on the main thread."""
        Clock.schedule_once(lambda _dt: self._apply_sync_report(report))

    def _apply_sync_report(self, report: object) -> None:
        self.last_sync_report = report
        if self._stopped or self.desk_source is None:
            return
        desk = self.desk_source()
        if desk is not None and desk != self.desk:
            self.apply_desk(desk)
