"""The agent tablet: thin screens over a `WaitQueue` (kiosk.core.wait_queue).

Each tap is recorded (durably) by the queue before the screen changes; elapsed times tick once
a second; the closing rule runs at start-up and every 30 seconds. Syncing is the same
background worker as the kiosk's; nothing here waits on the network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.clock import Clock, ClockEvent
from kivy.core.window import Window
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.core.agent_desk import AgentDesk, visit_link
from kiosk.core.device_state import Credentials
from kiosk.core.i18n import translate
from kiosk.core.staff_access import StaffAccess
from kiosk.core.staff_status import staff_status
from kiosk.core.store import KioskStore
from kiosk.core.wait_queue import QueueError, Visit, VisitStatus, WaitQueue
from kiosk.lockdown import LockedDownApp, lock_down
from kiosk.screens.agent_qr import AgentQRScreen
from kiosk.screens.agent_queue import AgentQueueScreen, QueueRow
from kiosk.screens.agent_summary import AgentSummaryScreen
from kiosk.screens.pin import PinScreen
from kiosk.screens.staff import StaffScreen
from kiosk.widgets.hidden_corner import HiddenCorner
from qualivilles.protocol import VisitEvent

TICK_SECONDS = 1.0
CLOSING_CHECK_SECONDS = 30.0


class AgentApp(LockedDownApp):
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
        store: KioskStore | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.queue = queue
        self.store = store  # for the staff side: PIN and sync state; None in queue-only tests
        self.desk = desk or AgentDesk()
        self.credentials = credentials
        self.desk_source = desk_source
        self.worker = worker
        self.title = "Qualivilles – file d'attente"
        self.last_visit_id: str | None = None
        self.arrival_id: str | None = None  # the visitor just arrived: the chips are theirs
        self._events: list[ClockEvent] = []
        self._stopped = False

    def build(self) -> ScreenManager:
        self.manager = ScreenManager(transition=NoTransition())
        self.queue_screen = AgentQueueScreen(
            name="agent_queue",
            on_arrive=lambda _, reason: self.arrive(reason),
            on_reason=lambda _, reason: self.give_reason(reason),
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
        if self.store is not None:
            self._build_staff_side(self.store)
        self.apply_desk(self.desk)
        self.check_closing()
        self._events = [
            Clock.schedule_interval(self.tick, TICK_SECONDS),
            Clock.schedule_interval(self.check_closing, CLOSING_CHECK_SECONDS),
        ]
        return self.manager

    def _build_staff_side(self, store: KioskStore) -> None:
        """PIN and staff screens, as on the kiosk: hold the top-left corner for a few seconds."""
        self.pin = PinScreen(
            name="pin",
            access=StaffAccess(store),
            on_unlocked=lambda _: setattr(self.manager, "current", "staff"),
            on_cancel=lambda _: self.back_to_queue(),
        )
        self.staff = StaffScreen(
            name="staff",
            for_tablet=True,
            status_source=lambda: staff_status(store),
            on_sync_now=lambda _: self.worker is not None and self.worker.wake(),
            on_close=lambda _: self.back_to_queue(),
            on_exit=lambda _: self.stop(),
        )
        for screen in (self.pin, self.staff):
            self.bind(language=screen.setter("language"))
            self.manager.add_widget(screen)
        self.corner = HiddenCorner(
            pos_hint={"x": 0, "top": 1}, on_long_press=lambda _: self.open_pin()
        )
        self.queue_screen.add_widget(self.corner)

    def open_pin(self) -> None:
        if self.manager.current == "agent_queue":
            self.manager.current = "pin"

    def on_start(self) -> None:
        lock_down(Window)
        Window.bind(on_request_close=self._refuse_close)
        if self.worker is not None:
            self.worker.start()

    def on_stop(self) -> None:
        self._stopped = True
        for event in self._events:
            event.cancel()
        Window.unbind(on_request_close=self._refuse_close)
        if self.worker is not None:
            self.worker.stop()

    def _refuse_close(self, *_: object, source: str | None = None, **__: object) -> bool:
        """No way out by keyboard (Escape, Alt-F4), as on the kiosk; the system's stop is
        honoured."""
        return source == "keyboard" and not self._stopped

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
        arrival = self._arrival()
        self.queue_screen.show_arrival(
            arrival.ticket if arrival else None, arrival.reason if arrival else None
        )

    def _arrival(self) -> Visit | None:
        """The visitor just arrived, while they wait."""
        if self.arrival_id is None:
            return None
        visit = self.queue.visit(self.arrival_id)
        return visit if visit.status == VisitStatus.WAITING else None

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
    def arrive(self, reason: str | None = None) -> Visit:
        visit = self.queue.arrive(reason)
        self.last_visit_id = self.arrival_id = visit.id
        self._after_tap()
        self.queue_screen.scroll_to_visit(visit.id)
        return visit

    def give_reason(self, reason: str) -> None:
        """A reason chip: it belongs to the visitor just arrived, never to the next one."""
        if self.arrival_id is not None:
            self._tap(lambda visit_id: self.queue.give_reason(visit_id, reason), self.arrival_id)

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
        # Rows may have moved under the finger: a second tap of a double tap acts on nothing.
        self.queue_screen.settle()
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
        if self.store is not None and not self._stopped:
            self.staff.show_sync_report(report)
        if self._stopped or self.desk_source is None:
            return
        desk = self.desk_source()
        if desk is not None and desk != self.desk:
            self.apply_desk(desk)
