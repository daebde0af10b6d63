"""An invisible square that staff hold for a few seconds to reach the PIN screen.

Put it last in a screen (so it is on top) with `pos_hint={"x": 0, "top": 1}`. It draws nothing
and takes the touches that land on it, so a visitor's tap there does nothing at all.
"""

from __future__ import annotations

from kivy.clock import Clock, ClockEvent
from kivy.input.motionevent import MotionEvent
from kivy.metrics import dp
from kivy.properties import NumericProperty
from kivy.uix.widget import Widget


class HiddenCorner(Widget):
    """Dispatches `on_long_press` once a touch has stayed on it for `hold_seconds`.

    Releasing the touch, or sliding it out of the square, before then cancels the press.
    """

    __events__ = ("on_long_press",)

    hold_seconds = NumericProperty(3.0)

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("size_hint", (None, None))
        kwargs.setdefault("size", (dp(80), dp(80)))
        super().__init__(**kwargs)
        self._touch: MotionEvent | None = None
        self._timer: ClockEvent | None = None

    def on_long_press(self) -> None:
        """Event: the corner was held long enough."""

    def on_touch_down(self, touch: MotionEvent) -> bool:
        if not self.collide_point(*touch.pos):
            return False
        if self._touch is None:  # a second finger neither restarts nor cancels the first
            touch.grab(self)
            self._touch = touch
            self._timer = Clock.schedule_once(self._fire, self.hold_seconds)
        return True

    def on_touch_move(self, touch: MotionEvent) -> bool:
        if touch.grab_current is not self:
            return self.collide_point(*touch.pos)
        if touch is self._touch and not self.collide_point(*touch.pos):
            self._cancel()
        return True

    def on_touch_up(self, touch: MotionEvent) -> bool:
        if touch.grab_current is not self:
            return self.collide_point(*touch.pos)
        touch.ungrab(self)
        if touch is self._touch:
            self._cancel()
        return True

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._touch = None

    def _fire(self, _dt: float) -> None:
        self._timer = None
        self._touch = None  # the finger may stay down: its release is simply ignored
        self.dispatch("on_long_press")
