"""How long a kiosk waits for a visitor who stopped touching it, and whether it asks first. Pure.

A response belongs to one visitor. A follow-up left untouched for `follow_up_seconds` (8 s by
default) means the visitor has walked away: their answers are kept as partial and the kiosk is
free at once, so that the next person's tap starts their own response instead of landing in
the previous one. Only a visitor typing a comment gets the long `inactivity_timeout_seconds` and
an "are you still there?" countdown: typing takes time, and a half-typed comment deserves a
question before it is closed.
"""

from __future__ import annotations

from dataclasses import dataclass

from qualivilles.device_config import KioskSettings


@dataclass(frozen=True)
class IdleLimit:
    seconds: float  # untouched this long, the visitor is taken to have gone
    ask_first: bool  # "are you still there?" before closing the response


def idle_limit(settings: KioskSettings, typing: bool) -> IdleLimit:
    """The limit for a visitor on a follow-up; `typing`: they have started a comment."""
    if typing:
        return IdleLimit(float(settings.inactivity_timeout_seconds), ask_first=True)
    return IdleLimit(float(settings.follow_up_seconds), ask_first=False)
