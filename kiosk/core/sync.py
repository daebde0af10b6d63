"""Moving the outbox to the server: one sync pass (`sync_once`) and the background `SyncWorker`.

The UI never waits on the network: it writes to its own `KioskStore` and, at most, calls
`SyncWorker.wake()`. The worker owns a second store on the same file and its own HTTP client,
and reports each pass through `on_report` (called on the worker thread; the UI marshals it to
its main thread).
"""

from __future__ import annotations

import logging
import random
import shutil
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from kiosk.core.backoff import delay_after_failure
from kiosk.core.device_state import CachedConfig
from kiosk.core.store import KioskStore, StoreFull
from kiosk.core.sync_client import APP_VERSION, ServerError, SyncClient, SyncError
from kiosk.platform import battery_percent
from qualivilles.protocol import Heartbeat

log = logging.getLogger(__name__)

# How long a response stays on the device once the server has it: its comment is kept here as
# typed (the server stores it scrubbed of e-mail addresses and phone numbers).
UPLOADED_RESPONSES_KEPT = timedelta(days=1)


@dataclass(frozen=True)
class SyncReport:
    """What one pass did; `error` is None when everything went through."""

    started_at: datetime
    finished_at: datetime
    sent: int = 0  # records in batches the server answered
    forgotten: int = 0  # stored or duplicate: removed from the device
    duplicates: int = 0
    conflicts: int = 0  # set aside on the device, visible on the staff screen
    rejected: int = 0
    unacknowledged: int = 0  # sent but not named in the answer: stay queued
    backlog: int = 0  # still to send after this pass
    config_changed: bool = False
    clock_offset_ms: int | None = None
    error: str | None = None
    # What kind of failure, to decide what to do: server_unreachable, server_error,
    # invalid_acknowledgement, auth_rejected, request_rejected, store_full, not_enrolled…
    error_kind: str | None = None
    error_code: str | None = None  # the most precise code known, e.g. "device_revoked"
    retry_after: float | None = None
    next_attempt_at: datetime | None = None  # set by SyncWorker: when it will try again
    heartbeat_sent: bool = False
    token_rotated: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


# After these outcomes the server can hear a heartbeat; after the others (no connection, not our
# server, busy, refusing the token) it would only add to the trouble.
_HEARTBEAT_AFTER = frozenset({None, "request_rejected", "store_full"})
_FIELD_LIMITS = {"last_error": 500, "last_error_code": 64}


def sync_once(
    store: KioskStore,
    client: SyncClient,
    batch_count: int = 200,
    batch_bytes: int = 512_000,
    *,
    heartbeat: bool = True,
    rotate_token: bool = False,
    battery: Callable[[], float | None] = battery_percent,
) -> SyncReport:
    """Upload every pending record in capture-ordered batches, refresh the configuration,
    rotate the token if asked, then send a heartbeat.

    Stops uploading at the first failure. Network and server failures (and a full disk) are
    returned in the report, never raised. The outcome is also saved in the store's sync status.
    A failed heartbeat or rotation is logged and retried next pass; it does not fail the pass.
    """
    started_at = store.clock.now()
    totals = {"sent": 0, "forgotten": 0, "duplicates": 0, "conflicts": 0, "rejected": 0}
    unacknowledged = 0
    offset: int | None = None
    config_changed = False
    failure: SyncError | StoreFull | None = None
    try:
        while batch := store.pending_records(batch_count, batch_bytes):
            store.mark_attempted(str(record.id) for record in batch)
            exchange = client.exchange(batch)
            summary = store.apply_acks(exchange.acks)
            offset = exchange.clock_offset_ms
            totals["sent"] += len(batch)
            totals["forgotten"] += summary.forgotten
            totals["duplicates"] += summary.duplicates
            totals["conflicts"] += summary.conflicts
            totals["rejected"] += summary.rejected
            unacknowledged = len(batch) - len({ack.id for ack in exchange.acks})
            if unacknowledged:
                # The same batch would come back at once: leave it for the next pass.
                break
        store.purge_uploaded_responses(UPLOADED_RESPONSES_KEPT)
        cached = store.cached_config()
        config, etag = client.fetch_config(cached.etag if cached else None)
        if config is not None and (cached is None or config != cached.config):
            store.save_config(CachedConfig(config, etag))
            config_changed = True
        elif config is None and cached is not None and etag != cached.etag:
            store.save_config(replace(cached, etag=etag))
    except (SyncError, StoreFull) as error:
        failure = error
    token_rotated = failure is None and rotate_token and _rotate_token(store, client)
    report = SyncReport(
        started_at=started_at,
        finished_at=store.clock.now(),
        unacknowledged=unacknowledged,
        backlog=store.backlog(),
        config_changed=config_changed,
        clock_offset_ms=offset,
        error=None if failure is None else str(failure) or type(failure).__name__,
        error_kind=None if failure is None else _error_kind(failure),
        error_code=None if failure is None else _error_code(failure),
        retry_after=failure.retry_after if isinstance(failure, ServerError) else None,
        token_rotated=token_rotated,
        **totals,
    )
    if heartbeat and report.error_kind in _HEARTBEAT_AFTER:
        report = _send_heartbeat(store, client, report, battery)
    _save_outcome(store, report)
    return report


def _rotate_token(store: KioskStore, client: SyncClient) -> bool:
    """Get a new token, keep it on disk, then use it; on any failure keep the old one."""
    try:
        token = client.rotate_token()
        store.save_rotated_token(token)
    except (SyncError, StoreFull) as error:
        # The old token still works until the new one is used: asking again later is safe.
        log.warning("token rotation failed, will ask again: %s", error)
        return False
    client.use_token(token)
    return True


def build_heartbeat(
    store: KioskStore,
    report: SyncReport,
    *,
    battery: Callable[[], float | None] = battery_percent,
    app_version: str = APP_VERSION,
) -> Heartbeat:
    """The device's state after a pass, as the server's fleet view wants it."""
    try:
        disk_free: int | None = shutil.disk_usage(store.path.parent).free
    except OSError:
        disk_free = None
    level = battery()
    errors = {
        "last_error": report.error,
        "last_error_code": report.error_code,
    }
    if report.ok and store.disk_full:
        errors = {"last_error": store.sync_status().last_error, "last_error_code": "store_full"}
    errors = {
        key: None if value is None else value[: _FIELD_LIMITS[key]] for key, value in errors.items()
    }
    offset = report.clock_offset_ms
    if offset is None:
        offset = store.sync_status().clock_offset_ms
    return Heartbeat(
        sent_at=store.clock.now(),
        app_version=app_version[:64],
        backlog=store.backlog(),
        oldest_unsent_age_seconds=store.oldest_pending_age_seconds(),
        held_records=store.held_count(),
        disk_free_bytes=disk_free,
        battery_percent=None if level is None else min(max(level, 0.0), 100.0),
        clock_offset_ms=offset,
        **errors,
    )


def _send_heartbeat(
    store: KioskStore,
    client: SyncClient,
    report: SyncReport,
    battery: Callable[[], float | None],
) -> SyncReport:
    try:
        exchange = client.heartbeat(build_heartbeat(store, report, battery=battery))
    except SyncError as error:
        log.warning("heartbeat not delivered: %s", error)
        return report
    # With nothing to upload, the heartbeat is what keeps the clock offset fresh.
    offset = report.clock_offset_ms
    return replace(
        report,
        heartbeat_sent=True,
        clock_offset_ms=exchange.clock_offset_ms if offset is None else offset,
    )


def _error_kind(error: SyncError | StoreFull) -> str:
    return "store_full" if isinstance(error, StoreFull) else type(error).code


def _error_code(error: SyncError | StoreFull) -> str:
    return "store_full" if isinstance(error, StoreFull) else error.code


def _save_outcome(store: KioskStore, report: SyncReport) -> None:
    status = store.sync_status()
    if report.ok:
        status = replace(
            status,
            last_sync_at=report.finished_at,
            last_error=None,
            last_error_code=None,
            consecutive_failures=0,
        )
    else:
        status = replace(
            status,
            last_error=report.error,
            last_error_code=report.error_code,
            consecutive_failures=status.consecutive_failures + 1,
        )
    status = replace(status, last_attempt_at=report.finished_at)
    if report.clock_offset_ms is not None:
        status = replace(status, clock_offset_ms=report.clock_offset_ms)
    try:
        store.save_sync_status(status)
    except StoreFull:
        log.warning("disk full: sync status not saved")


def token_rotation_due(
    issued_at: datetime | None, now: datetime, max_age: timedelta | None
) -> bool:
    """Is the token old enough to be swapped for a new one? Never when its age is unknown.

    A wall clock set back makes the token look younger, never older: rotation then simply
    waits, which is harmless.
    """
    if max_age is None or issued_at is None:
        return False
    return now - issued_at >= max_age


def probe_address(server_url: str) -> tuple[str, int] | None:
    """The (host, port) a reachability probe connects to, or None for an unusable URL."""
    try:
        parts = urlsplit(server_url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return parts.hostname, port


# Only a failure to connect is cured by the network coming back; a slow server, a cut answer or a
# captive portal would "succeed" a TCP probe at once and be retried far too often.
PROBE_AFTER = frozenset({"server_unreachable"})


def next_probe_in(
    error_code: str | None, remaining_seconds: float, probe_interval: float
) -> float | None:
    """While backing off, how long to wait before the next reachability probe.

    None means no probe: just wait `remaining_seconds` (the pass went through, or failed in a
    way a TCP connection cannot tell apart from success, or the retry comes sooner anyway).
    """
    if error_code not in PROBE_AFTER or probe_interval <= 0:
        return None
    if remaining_seconds <= probe_interval:
        return None
    return probe_interval


def server_reachable(address: tuple[str, int], timeout: float = 1.0) -> bool:
    """A cheap probe: can a TCP connection be opened to the server? Sends nothing."""
    try:
        with socket.create_connection(address, timeout=timeout):
            return True
    except OSError:
        return False


def client_from_store(store: KioskStore) -> SyncClient | None:
    """The default client factory: one client from the enrolment saved in the store, on the
    store's clock, so a batch's `sent_at` and its records' capture times come from one clock
    (the server's clock correction compares the two)."""
    credentials = store.credentials()
    if credentials is None:
        return None
    return SyncClient.from_credentials(credentials, clock=store.clock)


class SyncWorker(threading.Thread):
    """Background thread: sync, then wait `interval` (or the backoff delay after a failure).

    `store_factory` and `client_factory` are called on the worker thread; the client factory
    returns None while the device is not enrolled. `wake()` syncs now; `stop()` ends the loop.
    While backing off after a failure to connect, it probes the server every `probe_interval`
    seconds (a bare TCP connection) and syncs as soon as the network is back.
    """

    def __init__(
        self,
        store_factory: Callable[[], KioskStore],
        client_factory: Callable[[KioskStore], SyncClient | None] = client_from_store,
        *,
        interval: float = 60.0,
        on_report: Callable[[SyncReport], None] | None = None,
        backoff_base: float = 2.0,
        backoff_cap: float = 300.0,
        batch_count: int = 200,
        batch_bytes: int = 512_000,
        rand: Callable[[], float] = random.random,
        probe_interval: float = 5.0,
        probe_timeout: float = 1.0,
        token_max_age: timedelta | None = timedelta(days=30),
        battery: Callable[[], float | None] = battery_percent,
    ) -> None:
        super().__init__(name="kiosk-sync", daemon=True)
        self._store_factory = store_factory
        self._client_factory = client_factory
        self.interval = interval
        self._on_report = on_report
        self._backoff = (backoff_base, backoff_cap)
        self._batch = (batch_count, batch_bytes)
        self._rand = rand
        self.probe_interval = probe_interval
        self.probe_timeout = probe_timeout
        self.token_max_age = token_max_age
        self._battery = battery
        self._wake = threading.Event()
        self._stopping = threading.Event()

    def wake(self) -> None:
        """Sync as soon as possible (after a capture, on "sync now", when the network returns)."""
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the loop to end (an upload in flight finishes first); join if `timeout` is given."""
        self._stopping.set()
        self._wake.set()
        if timeout is not None and self.is_alive():
            self.join(timeout)

    def run(self) -> None:
        store = self._store_factory()
        try:
            status = store.sync_status()
            self._wait(self._resume_delay(store), status.last_error_code, store)
            while not self._stopping.is_set():
                self._wake.clear()
                report = self._pass(store)
                delay, next_attempt_at = self._schedule(store, report)
                self._deliver(replace(report, next_attempt_at=next_attempt_at))
                self._wait(delay, report.error_code, store)
        finally:
            store.close()

    def _wait(self, seconds: float, error_code: str | None, store: KioskStore) -> None:
        """Wait `seconds`, unless woken, stopped, or a probe finds the server reachable again."""
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            step = next_probe_in(error_code, remaining, self.probe_interval)
            if step is None:
                self._wake.wait(remaining)
                return
            if self._wake.wait(step):
                return
            address = self._probe_address(store)
            if address is not None and server_reachable(address, self.probe_timeout):
                log.info("server reachable again: syncing now")
                return

    @staticmethod
    def _probe_address(store: KioskStore) -> tuple[str, int] | None:
        credentials = store.credentials()
        return None if credentials is None else probe_address(credentials.server_url)

    def _resume_delay(self, store: KioskStore) -> float:
        """After a restart, keep backing off if the last passes failed (persisted next attempt)."""
        status = store.sync_status()
        if not status.consecutive_failures or status.next_attempt_at is None:
            return 0.0
        remaining = (status.next_attempt_at - store.clock.now()).total_seconds()
        return min(max(remaining, 0.0), self._backoff[1])

    def _pass(self, store: KioskStore) -> SyncReport:
        now = store.clock.now()
        try:
            client = self._client_factory(store)
            if client is None:
                return SyncReport(
                    now,
                    now,
                    backlog=store.backlog(),
                    error="not enrolled",
                    error_kind="not_enrolled",
                    error_code="not_enrolled",
                )
            rotate = token_rotation_due(store.token_issued_at(), now, self.token_max_age)
            try:
                return sync_once(
                    store, client, *self._batch, rotate_token=rotate, battery=self._battery
                )
            finally:
                client.close()
        except Exception as error:
            # A bug must not silently end syncing for weeks: report it and try again later.
            log.exception("sync pass failed")
            return SyncReport(
                now,
                store.clock.now(),
                error=f"{type(error).__name__}: {error}",
                error_kind="internal_error",
                error_code="internal_error",
            )

    def _schedule(self, store: KioskStore, report: SyncReport) -> tuple[float, datetime]:
        """The wait before the next pass, persisted so a restart keeps backing off."""
        if report.ok or report.error_kind == "not_enrolled":
            delay = self.interval
        elif report.error_kind in ("auth_rejected", "store_full"):
            delay = self._backoff[1]  # retrying soon cannot help: wait for a human
        else:
            failures = store.sync_status().consecutive_failures
            base, cap = self._backoff
            delay = delay_after_failure(
                max(failures - 1, 0), report.retry_after, base=base, cap=cap, rand=self._rand
            )
        next_attempt_at = store.clock.now() + timedelta(seconds=delay)
        try:
            store.save_sync_status(replace(store.sync_status(), next_attempt_at=next_attempt_at))
        except StoreFull:
            log.warning("disk full: next attempt time not saved")
        return delay, next_attempt_at

    def _deliver(self, report: SyncReport) -> None:
        if self._on_report is None:
            return
        try:
            self._on_report(report)
        except Exception:
            log.exception("on_report callback failed")
