"""Device clock correction. Pure: the rule is tested directly, with properties.

The server estimates a device's clock offset as `received_at − sent_at` of its last exchange
(server minus device, network delay included). A small offset is noise (delay, a few seconds of
drift) and correcting it would only shuffle capture times around; a large one means the device
clock is wrong, and then every capture time it sends is shifted by the same offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


def offset_ms(sent_at: datetime, received_at: datetime) -> int | None:
    """Server time minus device time at sending, in ms; None without a time zone on `sent_at`."""
    if sent_at.tzinfo is None:
        return None
    try:
        return round((received_at - sent_at).total_seconds() * 1000)
    except OverflowError:  # a time zone offset pushing year 1 or 9999 off the calendar
        return None


def is_drifting(offset: int | None, max_drift_ms: int) -> bool:
    """True when the offset is known and larger (either way) than the allowed drift."""
    return offset is not None and abs(offset) > max_drift_ms


def corrected(device_time: datetime, offset: int | None, max_drift_ms: int) -> datetime:
    """The capture time to count: the device time, shifted by the offset when it is drifting.

    The offset is measured when the batch is sent, so it assumes the clock was as wrong at
    capture as at sending; that is true of a clock set to the wrong day, and the best estimate
    available for one that drifts slowly.
    """
    if not is_drifting(offset, max_drift_ms):
        return device_time
    assert offset is not None
    try:
        return device_time + timedelta(milliseconds=offset)
    except OverflowError:  # at the edge of the calendar: outside any window anyway
        return device_time


def trusted_offset(offset: int | None, max_offset_ms: int) -> int | None:
    """The offset to correct by, or None for an unknown clock: beyond `max_offset_ms` (either
    way) the clock is so wrong (reset to 1970, a year typed wrong) that one offset measured at
    sending says nothing reliable about the time of capture."""
    if offset is None or abs(offset) > max_offset_ms:
        return None
    return offset


@dataclass(frozen=True, slots=True)
class Window:
    """The capture times a record may have, after clock correction (both ends included)."""

    earliest: datetime
    latest: datetime

    @classmethod
    def around(
        cls,
        now: datetime,
        *,
        enrolled_at: datetime | None,
        ahead: timedelta,
        before_enrolment: timedelta,
        max_age: timedelta,
    ) -> Window:
        """From the device's enrolment less `before_enrolment` (without an enrolment, such as
        the phone survey: `now` less `max_age`) to `now` plus `ahead`."""
        earliest = now - max_age if enrolled_at is None else enrolled_at - before_enrolment
        return cls(earliest, now + ahead)

    def holds(self, time: datetime) -> bool:
        """Whether an aware time is within the window (comparing never overflows)."""
        return self.earliest <= time <= self.latest
