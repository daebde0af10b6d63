"""Device clock correction. Pure: the rule is tested directly, with properties.

The server estimates a device's clock offset as `received_at − sent_at` of its last exchange
(server minus device, network delay included). A small offset is noise (delay, a few seconds of
drift) and correcting it would only shuffle capture times around; a large one means the device
clock is wrong, and then every capture time it sends is shifted by the same offset.
"""

from __future__ import annotations

from datetime import datetime, timedelta


def offset_ms(sent_at: datetime, received_at: datetime) -> int | None:
    """Server time minus device time at sending, in ms; None without a time zone on `sent_at`."""
    if sent_at.tzinfo is None:
        return None
    return round((received_at - sent_at).total_seconds() * 1000)


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
    return device_time + timedelta(milliseconds=offset)
