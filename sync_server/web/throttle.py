"""The rule that slows down and then locks out password guessing on the login page (pure).

Failures are counted under the name typed, whether an account has it or not, so that the answer
never tells a known name from an unknown one, and under the client address, which catches one
machine trying many names. Each failure under a name waits a little longer before the answer
(at most a second); `limit` failures within `window` lock sign-in for that name, or address, for
`window` after the last of them. A locked name or address is refused without checking the
password.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_DELAY_SECONDS = 1.0
FIRST_DELAY_SECONDS = 0.125


@dataclass(frozen=True)
class Throttle:
    per_account: int
    per_address: int
    window: timedelta

    @property
    def lookback(self) -> timedelta:
        """How far back failures matter: a lock-out begun `window` ago by failures spread over
        the `window` before it."""
        return 2 * self.window


def locked_until(failures: Sequence[datetime], limit: int, window: timedelta) -> datetime | None:
    """When the latest lock-out begun by `failures` (oldest first) ends: `limit` of them within
    `window` lock until `window` after the last of them. None if they never reached `limit`."""
    for last in range(len(failures) - 1, limit - 2, -1):
        first = last - limit + 1
        if failures[last] - failures[first] <= window:
            return failures[last] + window
    return None


def lock_end(
    throttle: Throttle,
    account: Sequence[datetime],
    address: Sequence[datetime],
    now: datetime,
) -> datetime | None:
    """When sign-in opens again for this name and address, if it is locked at `now`."""
    ends = [
        end
        for end in (
            locked_until(account, throttle.per_account, throttle.window),
            locked_until(address, throttle.per_address, throttle.window),
        )
        if end is not None and end > now
    ]
    return max(ends) if ends else None


def delay_seconds(recent_failures: int) -> float:
    """How long to wait before answering the `recent_failures`-th failure under a name."""
    if recent_failures <= 0:
        return 0.0
    return min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2 ** (recent_failures - 1))
