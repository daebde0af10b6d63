"""Abuse control for the anonymous phone survey, without storing who anybody is.

A client is known only by `HMAC(salt, rate_limit_key(address))`, truncated: its IPv4 address or
its IPv6 /64, so that a phone cannot start afresh from another address of its own. The salt is
random, held in memory and replaced every `rotate_after` seconds, when everything remembered is
forgotten with it. Nothing here is written to disk, so no IP address (nor anything that leads
back to one) outlives a day.

Two rules, each counted per client over a sliding window:
- too many form submissions: refused (HTTP 429) until the window has room again;
- answers closer together than `suspect_interval` seconds: kept, but flagged as suspect, as the
  kiosk flags repeated presses. Many visitors may share one address (a carrier's NAT, the town
  hall's Wi-Fi), so the limits are generous and a burst is flagged, never refused.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from sync_server.client_address import rate_limit_key


@dataclass(frozen=True)
class Limits:
    # A full answer is one submission per question (8 in the default survey) plus a few retries.
    max_posts: int = 60
    post_window: float = 600.0
    suspect_interval: float = 30.0
    rotate_after: float = 24 * 3600.0
    # Bounded memory whatever the traffic: the oldest clients are forgotten first.
    max_clients: int = 50_000


class RateLimited(Exception):
    """Too many submissions from this client; `retry_after` is in whole seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class PhoneGuard:
    """Thread-safe: uvicorn may run sync routes on several threads."""

    def __init__(
        self, limits: Limits | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or Limits()
        self._clock = clock
        self._lock = threading.Lock()
        self._posts: dict[bytes, deque[float]] = {}
        self._last_answer: dict[bytes, float] = {}
        self._salt = secrets.token_bytes(32)
        self._salt_born = clock()

    def client_key(self, address: str | None) -> bytes:
        """The client's pseudonym under the current salt (rotating it first if it is old)."""
        with self._lock:
            self._rotate_if_due(self._clock())
            return self._key(address)

    def _key(self, address: str | None) -> bytes:
        identity = rate_limit_key(address).encode()
        return hmac.new(self._salt, identity, hashlib.sha256).digest()[:16]

    def _rotate_if_due(self, now: float) -> None:
        if now - self._salt_born >= self.limits.rotate_after:
            self._salt, self._salt_born = secrets.token_bytes(32), now
            self._posts.clear()
            self._last_answer.clear()

    def check_post(self, address: str | None) -> None:
        """Count one submission; raise `RateLimited` (counting nothing) when over the limit."""
        with self._lock:
            now = self._clock()
            self._rotate_if_due(now)
            key = self._key(address)
            stamps = self._posts.get(key)
            if stamps is None:
                self._forget_oldest(self._posts)
                stamps = self._posts[key] = deque()
            while stamps and now - stamps[0] >= self.limits.post_window:
                stamps.popleft()
            if len(stamps) >= self.limits.max_posts:
                wait = self.limits.post_window - (now - stamps[0])
                raise RateLimited(max(1, math.ceil(wait)))
            stamps.append(now)

    def answer_is_suspect(self, address: str | None) -> bool:
        """Note an answer from this client; True when it follows the previous one too closely."""
        with self._lock:
            now = self._clock()
            self._rotate_if_due(now)
            key = self._key(address)
            previous = self._last_answer.pop(key, None)
            self._forget_oldest(self._last_answer)
            self._last_answer[key] = now  # re-inserted: dicts keep the newest last
            return previous is not None and now - previous < self.limits.suspect_interval

    def _forget_oldest(self, table: dict[bytes, object]) -> None:
        while len(table) >= self.limits.max_clients:
            del table[next(iter(table))]

    def remembered_keys(self) -> set[bytes]:
        """What is held in memory (for tests: pseudonyms only, never an address)."""
        with self._lock:
            return set(self._posts) | set(self._last_answer)
