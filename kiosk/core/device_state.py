"""What a device remembers about itself between runs: enrolment, configuration, sync state.

Plain frozen dataclasses, shared by the store (which persists them) and the sync client and
worker (which produce them), so neither has to import the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from qualivilles.device_config import DeviceConfig


@dataclass(frozen=True)
class Credentials:
    """The outcome of enrolment: who this device is and how it authenticates."""

    server_url: str
    device_id: str
    token: str
    site: str
    service: str
    mode: str = "kiosk"
    # Signs per-visit phone links made offline on a tablet; None before it was ever given.
    visit_link_secret: str | None = None
    device_name: str = ""  # as the administrator named it ("Tablette accueil IRIS")

    def __repr__(self) -> str:
        # Never print the token in logs or tracebacks.
        return (
            f"Credentials(server_url={self.server_url!r}, device_id={self.device_id!r}, "
            f"site={self.site!r}, service={self.service!r}, mode={self.mode!r}, token=<hidden>, "
            f"visit_link_secret={'<hidden>' if self.visit_link_secret else None})"
        )


@dataclass(frozen=True)
class CachedConfig:
    """The last configuration the server sent, as sent, with its ETag for `If-None-Match`."""

    config: dict[str, Any]
    etag: str | None

    def parsed(self) -> DeviceConfig:
        """The configuration read through the shared model; `ValidationError` if unusable."""
        return DeviceConfig.model_validate(self.config)


@dataclass(frozen=True)
class SyncStatus:
    """What the staff screen shows about syncing; every field is None until it happens once."""

    last_sync_at: datetime | None = None  # last fully successful sync
    last_attempt_at: datetime | None = None
    last_error: str | None = None  # None after a success
    last_error_code: str | None = None  # e.g. "device_revoked", "server_unreachable"
    clock_offset_ms: int | None = None  # server minus device; positive = device is late
    next_attempt_at: datetime | None = None
    consecutive_failures: int = 0
