"""The device's two clocks: wall time (may drift or jump) and monotonic time (never jumps).

Records carry both, so the server can correct a wrong wall clock and waits are measured on the
clock that cannot be set. Tests use `ManualClock` instead of sleeping.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class DeviceClock(Protocol):
    def now(self) -> datetime:
        """Wall time, timezone-aware, in UTC."""
        ...

    def monotonic_ms(self) -> int:
        """Milliseconds on a clock that never goes back while the device is up (reset at boot)."""
        ...


class SystemClock:
    """The real clocks of the machine."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic_ms(self) -> int:
        return time.monotonic_ns() // 1_000_000

    def boot_id(self) -> str | None:
        """Changes at each boot (Linux, Android); None where the system does not say."""
        try:
            return BOOT_ID_FILE.read_text(encoding="ascii").strip() or None
        except OSError:
            return None


BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")


class ManualClock:
    """A clock that moves only when told to; safe to share between a test and a worker thread."""

    def __init__(self, start: datetime | None = None, monotonic_ms: int = 1_000_000) -> None:
        start = start or datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._monotonic_ms = monotonic_ms
        self._boot = str(uuid.uuid4())
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def monotonic_ms(self) -> int:
        with self._lock:
            return self._monotonic_ms

    def boot_id(self) -> str:
        with self._lock:
            return self._boot

    def advance(self, seconds: float) -> None:
        """Both clocks move forward together, as they do on a healthy device."""
        if seconds < 0:
            raise ValueError("time only moves forward; use set_wall_time() for a clock jump")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._monotonic_ms += round(seconds * 1000)

    def set_wall_time(self, now: datetime) -> None:
        """Someone set the wall clock (or NTP stepped it): the monotonic clock does not move."""
        if now.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        with self._lock:
            self._now = now.astimezone(UTC)

    def reboot(self, monotonic_ms: int = 0) -> None:
        """A reboot restarts the monotonic clock (and the boot gets a new id)."""
        with self._lock:
            self._monotonic_ms = monotonic_ms
            self._boot = str(uuid.uuid4())


def estimate_offset_ms(sent_at: datetime, server_received_at: datetime, round_trip_ms: int) -> int:
    """Server time minus device time, assuming the request took half the round trip.

    `sent_at` is the device's wall time when the request left; positive means the device is late.
    """
    midpoint = sent_at + timedelta(milliseconds=max(round_trip_ms, 0) / 2)
    return round((server_received_at - midpoint).total_seconds() * 1000)
