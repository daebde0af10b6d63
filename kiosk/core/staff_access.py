"""Who may open the staff screen: the PIN in force and the wrong-PIN history, kept in the store.

The PIN in force is, in order: the server's `config["kiosk"]["staff_pin_hash"]` (from the last
configuration received), the local one set with `kiosk --staff-pin`, else `DEVELOPMENT_PIN`
(the staff screen then says so). The wrong-PIN history lives in the store's settings table, so a
lockout survives closing the PIN screen and restarting the app.
"""

from __future__ import annotations

import hmac
from enum import StrEnum
from typing import Any, Protocol

from kiosk.core.clock import DeviceClock
from kiosk.core.staff_pin import (
    DEVELOPMENT_PIN,
    PinAttempts,
    PinOutcome,
    hash_pin,
    is_valid_pin_hash,
    locked_ms,
    pin_hash_from_config,
    rebased,
    remaining_free_attempts,
    try_pin,
    verify_pin,
)
from kiosk.core.store import KioskStore

LOCAL_PIN_KEY = "staff_pin_hash"
ATTEMPTS_KEY = "staff_pin_attempts"


class PinOrigin(StrEnum):
    SERVER = "server"
    LOCAL = "local"
    DEVELOPMENT = "development"


class Settings(Protocol):
    """A tiny key/value view of the store's settings (values are JSON)."""

    def get(self, key: str) -> Any: ...
    def set(self, key: str, value: Any) -> None: ...


class StoreSettings:
    """`Settings` over `KioskStore`'s settings table, through its (private) key/value helpers.

    Written through the store's own transaction, so a full disk raises `StoreFull` like any write.
    """

    def __init__(self, store: KioskStore) -> None:
        self._store = store

    def get(self, key: str) -> Any:
        return self._store._settings(key).get(key)

    def set(self, key: str, value: Any) -> None:
        self._store._save_settings({key: value})


def save_local_pin(store: KioskStore, pin: str) -> None:
    """Keep a hash of `pin` (4 to 8 digits, else `InvalidPin`) as this kiosk's local PIN."""
    StoreSettings(store).set(LOCAL_PIN_KEY, hash_pin(pin))


def pin_origin(store: KioskStore) -> PinOrigin:
    """Where the PIN in force comes from (shown on the staff screen)."""
    return _pin_in_force(store, StoreSettings(store))[0]


def _pin_in_force(store: KioskStore, settings: Settings) -> tuple[PinOrigin, str | None]:
    cached = store.cached_config()
    server = pin_hash_from_config(cached.config if cached else None)
    if server is not None:
        return PinOrigin.SERVER, server
    local = settings.get(LOCAL_PIN_KEY)
    if is_valid_pin_hash(local):
        return PinOrigin.LOCAL, local
    return PinOrigin.DEVELOPMENT, None


class StaffAccess:
    """Checks PINs for the PIN screen; used on the Kivy main thread with the app's store."""

    def __init__(self, store: KioskStore, clock: DeviceClock | None = None) -> None:
        self._store = store
        self._clock = clock or store.clock
        self._settings: Settings = StoreSettings(store)

    @property
    def origin(self) -> PinOrigin:
        return _pin_in_force(self._store, self._settings)[0]

    def _attempts(self) -> PinAttempts:
        stored = self._settings.get(ATTEMPTS_KEY)
        return PinAttempts() if stored is None else PinAttempts.from_json(stored)

    def _save(self, attempts: PinAttempts) -> None:
        self._settings.set(ATTEMPTS_KEY, None if attempts == PinAttempts() else attempts.to_json())

    def locked_seconds(self) -> float:
        """Seconds before a PIN may be tried again; 0 when the keypad is open."""
        now = self._clock.monotonic_ms()
        attempts = self._attempts()
        seen = rebased(attempts, now)
        if seen != attempts:  # after a reboot: the restarted lockout is what counts from now on
            self._save(seen)
        return locked_ms(seen, now) / 1000

    def free_attempts_left(self) -> int:
        """Wrong PINs still allowed before the first lockout."""
        return remaining_free_attempts(self._attempts())

    def try_pin(self, pin: str) -> PinOutcome:
        """Check `pin` unless locked; records the outcome durably before returning."""
        origin, encoded = _pin_in_force(self._store, self._settings)

        def right() -> bool:
            if origin is PinOrigin.DEVELOPMENT:
                return hmac.compare_digest(pin.encode(), DEVELOPMENT_PIN.encode())
            assert encoded is not None
            return verify_pin(pin, encoded)

        before = self._attempts()
        outcome, after = try_pin(before, self._clock.monotonic_ms(), right)
        if after != before:
            self._save(after)
        return outcome
