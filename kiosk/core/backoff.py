"""When to try again after a failed sync: full-jitter exponential backoff, pure and bounded.

Full jitter (a uniform draw between 0 and the exponential ceiling) spreads a fleet of kiosks
that all lost the network at once, so they do not hammer the server together when it returns.
"""

from __future__ import annotations

import random
from collections.abc import Callable

# Past this many doublings every ceiling is the cap anyway; avoids float overflow on 2**attempt.
_MAX_DOUBLINGS = 62


def ceiling(attempt: int, base: float = 2.0, cap: float = 300.0) -> float:
    """The largest delay allowed after `attempt` consecutive failures (0 = first failure)."""
    if attempt < 0:
        raise ValueError("attempt must be >= 0")
    return min(cap, base * 2.0 ** min(attempt, _MAX_DOUBLINGS))


def next_delay(
    attempt: int,
    base: float = 2.0,
    cap: float = 300.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait: uniform in [0, min(cap, base * 2**attempt)]."""
    # Clamped so a misbehaving random source can never escape the bounds.
    draw = min(max(rand(), 0.0), 1.0)
    return draw * ceiling(attempt, base, cap)


def delay_after_failure(
    attempt: int,
    retry_after: float | None = None,
    base: float = 2.0,
    cap: float = 300.0,
    max_retry_after: float = 3600.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """The backoff delay, but never earlier than the server's Retry-After (itself bounded)."""
    delay = next_delay(attempt, base, cap, rand)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(retry_after, max_retry_after))
    return delay
