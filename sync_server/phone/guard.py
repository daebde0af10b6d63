"""Abuse control for the anonymous phone survey, without storing who anybody is.

A client is known only by `HMAC(salt, rate_limit_key(address))`, truncated: its IPv4 address or
its IPv6 /64, so that a phone cannot start afresh from another address of its own. The salt is
random, kept in the database so that every server process shares it (and a restart keeps it), and
replaced every `rotate_after` seconds (a day), when every counter kept under the old one is
deleted with it. No IP address is ever written; nothing that leads back to one outlives a day.

Two rules, each counted per client over a sliding window (`sync_server.phone.budget`), the same
whichever process a phone reaches:
- too many form submissions: refused (HTTP 429) until the window has room again;
- answers closer together than `suspect_interval` seconds: kept, but flagged as suspect, as the
  kiosk flags repeated presses. Many visitors may share one address (a carrier's NAT, the town
  hall's Wi-Fi), so the limits are generous and a burst is flagged, never refused.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sync_server.client_address import rate_limit_key
from sync_server.phone import budget
from sync_server.storage import Connection, Storage, phone_limits


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Limits:
    # A full answer is one submission per question (8 in the default survey) plus a few retries.
    max_posts: int = 60
    post_window: float = 600.0
    suspect_interval: float = 30.0
    rotate_after: float = 24 * 3600.0

    @property
    def remembered(self) -> timedelta:
        """How long a submission or an answer counts for anything."""
        return timedelta(seconds=max(self.post_window, self.suspect_interval))


class RateLimited(Exception):
    """Too many submissions from this client; `retry_after` is in whole seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class PhoneGuard:
    """The limits of `storage`'s phone survey; `clock` gives the time (aware UTC)."""

    def __init__(
        self,
        storage: Storage,
        limits: Limits | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.storage = storage
        self.limits = limits or Limits()
        self._clock = clock

    def _key(self, connection: Connection, address: str | None, now: datetime) -> str:
        period = budget.period_of(now, timedelta(seconds=self.limits.rotate_after))
        salt = phone_limits.salt(connection, period, now)
        identity = rate_limit_key(address).encode()
        return hmac.new(salt, identity, hashlib.sha256).hexdigest()[:32]

    def client_key(self, address: str | None) -> str:
        """The client's pseudonym under the current salt."""
        with self.storage.write() as connection:
            return self._key(connection, address, self._clock())

    def check_post(self, address: str | None) -> None:
        """Count one submission; raise `RateLimited` (counting nothing) when over the limit."""
        self.admit(address, answer=False)

    def admit(self, address: str | None, *, answer: bool) -> bool:
        """Count one submission and, if it gave an `answer`, note that too, in one transaction;
        True when that answer follows the client's previous one too closely. Raises
        `RateLimited` (counting and noting nothing) when over the limit."""
        now = self._clock()
        window = timedelta(seconds=self.limits.post_window)
        with self.storage.write() as connection:
            key = self._key(connection, address, now)
            phone_limits.expire(connection, now - self.limits.remembered)
            times = phone_limits.times(connection, key, "post", now - window)
            wait = budget.retry_after(times, now, self.limits.max_posts, window)
            if wait is not None:
                raise RateLimited(wait)
            phone_limits.note(connection, key, "post", now)
            return answer and self._note_answer(connection, key, now)

    def answer_is_suspect(self, address: str | None) -> bool:
        """Note an answer from this client; True when it follows the previous one too closely."""
        now = self._clock()
        with self.storage.write() as connection:
            return self._note_answer(connection, self._key(connection, address, now), now)

    def _note_answer(self, connection: Connection, key: str, now: datetime) -> bool:
        interval = timedelta(seconds=self.limits.suspect_interval)
        earlier = phone_limits.times(connection, key, "answer", now - interval)
        phone_limits.note(connection, key, "answer", now)
        return budget.is_suspect(earlier[-1] if earlier else None, now, interval)

    def remembered_keys(self) -> set[str]:
        """The pseudonyms the database holds (never an address)."""
        with self.storage.read() as connection:
            return phone_limits.clients(connection)
