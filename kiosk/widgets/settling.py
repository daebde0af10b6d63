"""A screen that ignores taps for a settle time after it appears (see `kiosk.core.tap_guard`)."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import NumericProperty
from kivy.uix.screenmanager import Screen

from kiosk.core.tap_guard import SETTLE_SECONDS, settled


class SettlingScreen(Screen):
    """Touches within `settle_seconds` of `on_pre_enter` (or of `settle()`) are swallowed."""

    settle_seconds = NumericProperty(SETTLE_SECONDS)

    def __init__(self, **kwargs: Any) -> None:
        self._shown_at: float | None = None
        super().__init__(**kwargs)

    def settle(self) -> None:
        """Start the settle time again: the screen's content changed under the finger."""
        self._shown_at = Clock.get_time()

    def settle_left(self) -> float:
        """Seconds before taps act on this screen again; 0 once it has settled."""
        if self._shown_at is None:
            return 0.0
        return max(0.0, self._shown_at + self.settle_seconds - Clock.get_time())

    def on_pre_enter(self, *args: Any) -> None:
        self.settle()

    def on_touch_down(self, touch: Any) -> bool:
        if not settled(self._shown_at, Clock.get_time(), self.settle_seconds):
            return True  # taken, so nothing under it acts
        return super().on_touch_down(touch)
