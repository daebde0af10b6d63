"""Wiring of one kiosk process, without Kivy: store, visitor session, sync worker, enrolment.

`kiosk.cli` and the end-to-end tests build the kiosk through `open_kiosk`, so what is tested is
what ships.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiosk.core.agent_desk import AgentDesk
from kiosk.core.clock import DeviceClock, SystemClock
from kiosk.core.staff_access import save_local_pin
from kiosk.core.store import KioskStore
from kiosk.core.sync import SyncReport, SyncWorker, client_from_store
from kiosk.core.sync_client import SyncClient, SyncError
from kiosk.core.visitor import DeskConfig, VisitorSession
from kiosk.core.wait_queue import WaitQueue
from qualivilles.bundled import load_default_survey

log = logging.getLogger(__name__)

DATABASE_NAME = "kiosk.db"


def desk_config_from_store(store: KioskStore) -> DeskConfig | None:
    """The configuration last received from the server, or None if none (or unusable) yet."""
    cached = store.cached_config()
    if cached is None:
        return None
    try:
        return DeskConfig.from_config(cached.parsed())
    except ValueError as error:
        # A bad configuration must not take the kiosk down: keep the one in force.
        log.error("ignoring unusable configuration from the server: %s", error)
        return None


def enrolling_client_factory(
    server_url: str | None, enrol_code: str | None
) -> Callable[[KioskStore], SyncClient | None]:
    """A client factory for the worker thread that enrols first when the device is not yet.

    Enrolment is network work, so it happens on the worker thread like every upload; until it
    succeeds, the kiosk collects answers offline.
    """

    def factory(store: KioskStore) -> SyncClient | None:
        if store.credentials() is None and server_url and enrol_code:
            try:
                store.save_credentials(SyncClient.enrol(server_url, enrol_code))
            except SyncError as error:
                log.warning("enrolment failed, will retry: %s", error)
                return None
        return client_from_store(store)

    return factory


class ReportRelay:
    """Lets the worker be built before the app that listens to its reports."""

    def __init__(self) -> None:
        self.listeners: list[Callable[[SyncReport], None]] = []

    def __call__(self, report: SyncReport) -> None:
        for listener in list(self.listeners):
            listener(report)


@dataclass
class KioskRuntime:
    store: KioskStore
    session: VisitorSession
    worker: SyncWorker
    reports: ReportRelay
    recovered_partials: int

    def current_desk(self) -> DeskConfig | None:
        return desk_config_from_store(self.store)

    def close(self) -> None:
        self.worker.stop(timeout=5)
        self.store.close()


def save_staff_pin(data_dir: Path, pin: str) -> None:
    """`kiosk --staff-pin`: keep a hash of the local staff PIN in the kiosk's data (`InvalidPin`
    unless 4 to 8 digits). The server's `kiosk.staff_pin_hash`, once received, wins over it."""
    with KioskStore(Path(data_dir) / DATABASE_NAME) as store:
        save_local_pin(store, pin)


def open_kiosk(
    data_dir: Path,
    *,
    server_url: str | None = None,
    enrol_code: str | None = None,
    clock: DeviceClock | None = None,
    sync_interval: float = 60.0,
) -> KioskRuntime:
    """Open (or create) the kiosk in `data_dir`; the worker is built but not started."""
    clock = clock or SystemClock()
    database = Path(data_dir) / DATABASE_NAME
    store = KioskStore(database, clock)
    # A visitor cut short by a crash or power cut is kept as partial, never lost.
    recovered = store.seal_abandoned_responses()
    desk = desk_config_from_store(store) or DeskConfig(survey=load_default_survey())
    session = VisitorSession(store, clock, desk)
    worker, reports = _sync_worker(database, clock, server_url, enrol_code, sync_interval)
    return KioskRuntime(store, session, worker, reports, recovered)


def _sync_worker(
    database: Path,
    clock: DeviceClock,
    server_url: str | None,
    enrol_code: str | None,
    sync_interval: float,
) -> tuple[SyncWorker, ReportRelay]:
    """The background sync of either mode, on its own connection to the same file."""
    reports = ReportRelay()
    worker = SyncWorker(
        lambda: KioskStore(database, clock),
        enrolling_client_factory(server_url, enrol_code),
        interval=sync_interval,
        on_report=reports,
    )
    return worker, reports


# --- agent tablet ----------------------------------------------------------------------------

DEVICE_MODES = ("kiosk", "tablet")


def device_mode(data_dir: Path, override: str | None = None) -> str:
    """'kiosk' or 'tablet': the `--mode` override, else the enrolment's, else 'kiosk'."""
    if override is not None:
        if override not in DEVICE_MODES:
            raise ValueError(f"mode must be one of {', '.join(DEVICE_MODES)}")
        return override
    database = Path(data_dir) / DATABASE_NAME
    if not database.exists():
        return "kiosk"
    with KioskStore(database) as store:
        credentials = store.credentials()
    return credentials.mode if credentials is not None else "kiosk"


def agent_desk_from_store(store: KioskStore) -> AgentDesk | None:
    cached = store.cached_config()
    if cached is None:
        return None
    try:
        return AgentDesk.from_config(cached.parsed())
    except ValueError as error:
        log.error("ignoring unusable configuration from the server: %s", error)
        return None


@dataclass
class AgentRuntime:
    store: KioskStore
    queue: WaitQueue
    worker: SyncWorker
    reports: ReportRelay

    def current_desk(self) -> AgentDesk | None:
        return agent_desk_from_store(self.store)

    def close(self) -> None:
        self.worker.stop(timeout=5)
        self.store.close()


def open_agent(
    data_dir: Path,
    *,
    server_url: str | None = None,
    enrol_code: str | None = None,
    clock: DeviceClock | None = None,
    sync_interval: float = 60.0,
) -> AgentRuntime:
    """Open (or create) the agent tablet in `data_dir`: its queue is rebuilt from the store."""
    clock = clock or SystemClock()
    database = Path(data_dir) / DATABASE_NAME
    store = KioskStore(database, clock)
    desk = agent_desk_from_store(store) or AgentDesk()
    queue = WaitQueue(store, clock, timezone=desk.timezone)
    worker, reports = _sync_worker(database, clock, server_url, enrol_code, sync_interval)
    return AgentRuntime(store, queue, worker, reports)
