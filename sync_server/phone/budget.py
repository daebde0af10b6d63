"""The phone survey's abuse rules as pure functions of times: how many submissions a client may
make in a sliding window, when the next one is allowed, which answers follow too closely, and
which salt period a moment falls in."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta


def period_of(moment: datetime, rotate_after: timedelta) -> int:
    """The number of the salt period `moment` falls in: periods of `rotate_after` counted from
    the Unix epoch (days start at midnight UTC), the same in every process."""
    step = rotate_after.total_seconds()
    if step <= 0:
        raise ValueError("a salt period must be positive")
    return math.floor(moment.astimezone(UTC).timestamp() / step)


def retry_after(
    times: Sequence[datetime], now: datetime, max_posts: int, window: timedelta
) -> int | None:
    """None when one more submission at `now` is allowed after those at `times` (oldest first,
    accepted ones only); otherwise the whole seconds (at least 1) until it is: until the
    submission that frees a place leaves the window."""
    recent = [t for t in times if now - t < window]
    if len(recent) < max_posts:
        return None
    freeing = recent[len(recent) - max_posts]
    return max(1, math.ceil((window - (now - freeing)).total_seconds()))


def is_suspect(previous: datetime | None, now: datetime, interval: timedelta) -> bool:
    """An answer less than `interval` after the same client's previous one is flagged."""
    return previous is not None and now - previous < interval
