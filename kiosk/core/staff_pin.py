"""The staff PIN: salted scrypt hashes and the rate limit on wrong PINs. Pure, no Kivy, no I/O.

A hash is written `scrypt$<salt hex>$<hash hex>` with the fixed parameters below, so the server
(which sends `config["kiosk"]["staff_pin_hash"]`) and `kiosk --staff-pin` make the same strings:
both call `hash_pin`.

The rate limit is a function of the failure history and the monotonic clock only: three free
tries, then each wrong PIN locks the keypad for 30 s, 60 s, 120 s… up to 15 min. While locked, a
PIN is not even checked, so no guess (right or wrong) can get through. A right PIN resets it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

# scrypt cost: about 16 MB and a few tens of ms per check on a PC, a few hundred on a Raspberry Pi.
# Part of the hash format: changing them needs a new prefix.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
HASH_BYTES = 32
SALT_BYTES = 16
PREFIX = "scrypt"

PIN_PATTERN = re.compile(r"[0-9]{4,8}")
MIN_DIGITS, MAX_DIGITS = 4, 8

# A kiosk with no PIN from the server and none set locally accepts this one, and the staff screen
# says so. Set a real one with `kiosk --staff-pin` or in the server configuration.
DEVELOPMENT_PIN = "0000"

FREE_ATTEMPTS = 3
FIRST_LOCKOUT_SECONDS = 30
MAX_LOCKOUT_SECONDS = 15 * 60


class InvalidPin(ValueError):
    """A PIN that is not 4 to 8 digits: refused before hashing."""


class InvalidPinHash(ValueError):
    """A stored or received hash that is not `scrypt$<salt hex>$<hash hex>`."""


def check_pin_format(pin: str) -> str:
    """The PIN itself if it is 4 to 8 digits, else `InvalidPin`."""
    if not isinstance(pin, str) or PIN_PATTERN.fullmatch(pin) is None:
        raise InvalidPin(f"a staff PIN is {MIN_DIGITS} to {MAX_DIGITS} digits")
    return pin


def _derive(pin: str, salt: bytes) -> bytes:
    return hashlib.scrypt(
        pin.encode("utf-8"),
        salt=salt,
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        dklen=HASH_BYTES,
        maxmem=64 * 1024 * 1024,
    )


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    """`scrypt$<salt hex>$<hash hex>` for a 4-to-8-digit PIN, with a fresh random salt."""
    check_pin_format(pin)
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    return f"{PREFIX}${salt.hex()}${_derive(pin, salt).hex()}"


def parse_pin_hash(encoded: str) -> tuple[bytes, bytes]:
    """(salt, hash) of a well-formed hash string, else `InvalidPinHash`."""
    parts = encoded.split("$") if isinstance(encoded, str) else []
    if len(parts) != 3 or parts[0] != PREFIX:
        raise InvalidPinHash("expected scrypt$<salt hex>$<hash hex>")
    try:
        salt, digest = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
    except ValueError as error:
        raise InvalidPinHash("salt and hash must be hexadecimal") from error
    if len(salt) < 8 or len(digest) != HASH_BYTES:
        raise InvalidPinHash(f"salt of 8+ bytes and a {HASH_BYTES}-byte hash expected")
    return salt, digest


def is_valid_pin_hash(encoded: Any) -> bool:
    try:
        parse_pin_hash(encoded)
    except InvalidPinHash:
        return False
    return True


def verify_pin(pin: str, encoded: str) -> bool:
    """Does `pin` match the hash? Constant-time comparison; a malformed PIN is simply False."""
    salt, expected = parse_pin_hash(encoded)
    try:
        check_pin_format(pin)
    except InvalidPin:
        return False
    return hmac.compare_digest(_derive(pin, salt), expected)


# --- rate limit ---------------------------------------------------------------------------------


def lockout_seconds(failures: int) -> int:
    """How long the keypad stays locked after `failures` consecutive wrong PINs."""
    if failures < FREE_ATTEMPTS:
        return 0
    doublings = min(failures - FREE_ATTEMPTS, 32)  # 30 · 2^32 s is far past the cap already
    return min(FIRST_LOCKOUT_SECONDS * 2**doublings, MAX_LOCKOUT_SECONDS)


@dataclass(frozen=True)
class PinAttempts:
    """Consecutive wrong PINs since the last right one, and the monotonic time of the latest."""

    failures: int = 0
    last_failure_ms: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"failures": self.failures, "last_failure_ms": self.last_failure_ms}

    @classmethod
    def from_json(cls, value: Any) -> PinAttempts:
        """Read back what `to_json` wrote; anything unreadable counts as a full lockout now."""
        try:
            failures = int(value["failures"])
            last = value["last_failure_ms"]
            last = None if last is None else int(last)
        except (KeyError, TypeError, ValueError):
            return cls(failures=FREE_ATTEMPTS, last_failure_ms=None)
        return cls(failures=max(failures, 0), last_failure_ms=last)


def rebased(attempts: PinAttempts, now_ms: int) -> PinAttempts:
    """The history seen from `now_ms`: after a reboot (the monotonic clock went back, or a stored
    failure has no time) the lockout in force restarts from now rather than lasting forever."""
    if attempts.failures == 0:
        return attempts
    if attempts.last_failure_ms is None or now_ms < attempts.last_failure_ms:
        return replace(attempts, last_failure_ms=now_ms)
    return attempts


def locked_ms(attempts: PinAttempts, now_ms: int) -> int:
    """Milliseconds left before a PIN may be tried again (0: the keypad is open)."""
    attempts = rebased(attempts, now_ms)
    if attempts.last_failure_ms is None:
        return 0
    until = attempts.last_failure_ms + lockout_seconds(attempts.failures) * 1000
    return max(until - now_ms, 0)


def remaining_free_attempts(attempts: PinAttempts) -> int:
    return max(FREE_ATTEMPTS - attempts.failures, 0)


class PinOutcome(StrEnum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    LOCKED = "locked"  # refused without looking at the PIN


def try_pin(
    attempts: PinAttempts, now_ms: int, pin_is_right: Callable[[], bool]
) -> tuple[PinOutcome, PinAttempts]:
    """One submitted PIN: the outcome and the new history.

    `pin_is_right` is only called when the keypad is open, so a locked kiosk spends no time
    hashing and gives nothing away.
    """
    attempts = rebased(attempts, now_ms)
    if locked_ms(attempts, now_ms) > 0:
        return PinOutcome.LOCKED, attempts
    if pin_is_right():
        return PinOutcome.ACCEPTED, PinAttempts()
    return PinOutcome.WRONG, PinAttempts(attempts.failures + 1, now_ms)


def pin_hash_from_config(config: dict[str, Any] | None) -> str | None:
    """The server's `kiosk.staff_pin_hash`, if it sent a well-formed one.

    Read on its own, not through `DeviceConfig`: the PIN must hold even when another part of the
    configuration is unusable."""
    kiosk = (config or {}).get("kiosk")
    value = kiosk.get("staff_pin_hash") if isinstance(kiosk, dict) else None
    return value if is_valid_pin_hash(value) else None
