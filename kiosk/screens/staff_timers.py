"""What the two staff screens share: they go back to the visitors after a while without a touch,
and refresh themselves while shown."""

from __future__ import annotations

from collections.abc import Callable

from kivy.clock import Clock, ClockEvent
from kivy.input.motionevent import MotionEvent
from kivy.properties import NumericProperty
from kivy.uix.screenmanager import Screen


class IdleReturnScreen(Screen):
    """A screen that calls `on_idle_timeout()` after `idle_seconds` without a touch and runs a
    refresh ticker while it is shown. Subclasses call `start_timers(tick, every)` on enter."""

    idle_seconds = NumericProperty(60.0)

    def on_idle_timeout(self) -> None:
        raise NotImplementedError

    def start_timers(self, tick: Callable[..., object], every: float) -> None:
        self._restart_idle()
        self._ticker = Clock.schedule_interval(tick, every)

    def stop_timers(self) -> None:
        for event in (getattr(self, "_idle", None), getattr(self, "_ticker", None)):
            if event is not None:
                event.cancel()
        self._idle: ClockEvent | None = None
        self._ticker: ClockEvent | None = None

    def on_touch_down(self, touch: MotionEvent) -> bool:
        if getattr(self, "_idle", None) is not None:
            self._restart_idle()
        return super().on_touch_down(touch)

    def _restart_idle(self) -> None:
        if getattr(self, "_idle", None) is not None:
            self._idle.cancel()
        self._idle = Clock.schedule_once(lambda _dt: self.on_idle_timeout(), self.idle_seconds)
