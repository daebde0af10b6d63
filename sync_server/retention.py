"""The retention periods of the settings applied: by `sync-server purge`, and by the running
server at start-up and then once a day (`purge_loop`). What is purged and how the figures stay
the same: `sync_server.storage.retention`; the periods and why: docs/privacy.md."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sync_server.api.deps import session_lifetime
from sync_server.settings import Settings
from sync_server.storage import Storage
from sync_server.storage.retention import Policy, Purged, purge
from sync_server.web.pages.login import throttle_of

log = logging.getLogger(__name__)

# Seconds between two purges of a running server.
EVERY = 24 * 3600


def policy_of(settings: Settings) -> Policy:
    return Policy(
        free_text_months=settings.free_text_retention_months,
        heartbeat_days=settings.heartbeat_retention_days,
        session_lifetime=session_lifetime(settings),
        # As far back as the login page counts failures: older ones only hold an address.
        login_failure_window=throttle_of(settings).lookback,
        contact_days=settings.contact_details_retention_days,
    )


def purge_step(storage: Storage, settings: Settings, now: datetime) -> Purged | None:
    """One purge of the background loop, logged; a failure is logged, never raised (it must not
    stop the server, and the next day's run tries again)."""
    try:
        done = purge(storage, now, policy_of(settings))
    except Exception:
        log.exception("retention purge failed")
        return None
    if done.total:
        counts = ", ".join(f"{kind} {count}" for kind, count in done.counts() if count)
        log.info("retention purge: %s", counts)
    return done


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def purge_loop(
    storage: Storage,
    settings: Settings,
    stop: asyncio.Event,
    *,
    clock: Callable[[], datetime] = _utcnow,
    every: float = EVERY,
) -> None:
    """Purge now, then every `every` seconds until `stop` is set; a purge under way finishes
    before the loop returns."""
    while True:
        await asyncio.to_thread(purge_step, storage, settings, clock())
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except TimeoutError:
            continue
        return
