"""Moving the outbox to the server: one sync pass (`sync_once`) and the background `SyncWorker`.

The UI never waits on the network: it writes to its own `KioskStore` and, at most, calls
`SyncWorker.wake()`. The worker owns a second store on the same file and its own HTTP client,
and reports each pass through `on_report` (called on the worker thread; the UI marshals it to
its main thread).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from kiosk.core.backoff import delay_after_failure
from kiosk.core.device_state import CachedConfig
from kiosk.core.store import KioskStore, StoreFull
from kiosk.core.sync_client import ServerError, SyncClient, SyncError

log = logging.getLogger(__name__)


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

    @property
    def ok(self) -> bool:
        return self.error is None


def sync_once(
    store: KioskStore,
    client: SyncClient,
    batch_count: int = 200,
    batch_bytes: int = 512_000,
) -> SyncReport:
    """Upload every pending record in capture-ordered batches, then refresh the configuration.

    Stops at the first failure. Network and server failures (and a full disk) are returned in
    the report, never raised. The outcome is also saved in the store's sync status.
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
        cached = store.cached_config()
        config, etag = client.fetch_config(cached.etag if cached else None)
        if config is not None and (cached is None or config != cached.config):
            store.save_config(CachedConfig(config, etag))
            config_changed = True
        elif config is None and cached is not None and etag != cached.etag:
            store.save_config(replace(cached, etag=etag))
    except (SyncError, StoreFull) as error:
        failure = error
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
        **totals,
    )
    _save_outcome(store, report)
    return report


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


def client_from_store(store: KioskStore) -> SyncClient | None:
    """The default client factory: one client from the enrolment saved in the store."""
    credentials = store.credentials()
    return None if credentials is None else SyncClient.from_credentials(credentials)


class SyncWorker(threading.Thread):
    """Background thread: sync, then wait `interval` (or the backoff delay after a failure).

    `store_factory` and `client_factory` are called on the worker thread; the client factory
    returns None while the device is not enrolled. `wake()` syncs now; `stop()` ends the loop.
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
    ) -> None:
        super().__init__(name="kiosk-sync", daemon=True)
        self._store_factory = store_factory
        self._client_factory = client_factory
        self.interval = interval
        self._on_report = on_report
        self._backoff = (backoff_base, backoff_cap)
        self._batch = (batch_count, batch_bytes)
        self._rand = rand
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
            self._wait(self._resume_delay(store))
            while not self._stopping.is_set():
                self._wake.clear()
                report = self._pass(store)
                delay, next_attempt_at = self._schedule(store, report)
                self._deliver(replace(report, next_attempt_at=next_attempt_at))
                self._wait(delay)
        finally:
            store.close()

    def _wait(self, seconds: float) -> None:
        if seconds > 0 and not self._stopping.is_set():
            self._wake.wait(seconds)

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
            try:
                return sync_once(store, client, *self._batch)
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
