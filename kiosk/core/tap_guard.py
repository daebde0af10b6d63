"""Taps that arrive before a screen has settled belong to the screen before it.

A double tap lands twice within about 150 ms; a finger lifted as a screen changes lands on the
new one. Ignoring every tap for a short settle time after a screen appears means one double tap
answers one question, takes one visitor in charge, never two. Pure: the caller gives the times.
"""

from __future__ import annotations

SETTLE_SECONDS = 0.4


def settled(shown_at: float | None, now: float, settle_seconds: float = SETTLE_SECONDS) -> bool:
    """Whether a tap at `now` may act on a screen shown at `shown_at` (seconds, one clock)."""
    return shown_at is None or now - shown_at >= settle_seconds
