"""`sync-server demo`: a fresh demo town with three months of data, served on 127.0.0.1.

Everything goes through the real parts: the town file through `town.load_town`, the generated
records through `uploads.store_batch` from enrolled demo devices (and the phone channel, whose
answers to a per-visit link spend that link), the user through `users.create`, the kiosk through
a real one-time enrolment code.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from qualivilles.bundled import DEMO_TOWN_FILE
from qualivilles.protocol import MAX_RECORDS_PER_BATCH, AckStatus, Heartbeat, RecordIn, RecordKind
from sync_server.demo.cycle import CycleCounts, close_meetings, seed_cycle
from sync_server.demo.data import DemoBatch, generate
from sync_server.indicators import public_holidays
from sync_server.settings import Settings
from sync_server.storage import (
    Source,
    Storage,
    devices,
    health,
    migrations,
    schema,
    surveys,
    triage,
    uploads,
    users,
    visit_links,
)
from sync_server.storage import town as town_config

TOWN_FILE = DEMO_TOWN_FILE
DEFAULT_SEED = 2026
DEVICE_NAMES = {"kiosk": "Borne de démonstration", "tablet": "Tablette agent de démonstration"}


class DemoError(Exception):
    """The demo cannot start (e.g. the port is taken); the message says what to do."""


@dataclass(frozen=True)
class DemoSetup:
    storage: Storage
    settings: Settings
    town: dict[str, Any]
    kiosk_code: str
    answers: int
    visit_events: int
    cycle: CycleCounts


def load_town_file(path: Path = TOWN_FILE) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def fresh_database(data_dir: Path) -> str:
    """A new, empty SQLite file in `data_dir` (an earlier demo's is removed); returns its URL."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "server.db"
    for leftover in (path, path.with_name("server.db-wal"), path.with_name("server.db-shm")):
        leftover.unlink(missing_ok=True)
    return f"sqlite:///{path.resolve()}"


def ingest_batch(storage: Storage, batch: DemoBatch) -> int:
    """Upload one demo source's records as its device would; returns how many were stored."""
    device_id = None
    if batch.source != "phone":
        first = batch.records[0].device_time
        with storage.write() as connection:
            code = devices.create(
                connection,
                site=batch.site,
                service=batch.service,
                name=DEVICE_NAMES[batch.source],
                mode=batch.source,
                now=first - timedelta(days=1),
            )
            devices.enrol(connection, code.code, app_version="demo", now=first)
        device_id = code.device_id
    source = Source(
        site=batch.site, service=batch.service, channel=batch.source, device_id=device_id
    )
    stored = 0
    for start in range(0, len(batch.records), MAX_RECORDS_PER_BATCH):
        chunk = batch.records[start : start + MAX_RECORDS_PER_BATCH]
        received_at = chunk[-1].device_time + timedelta(minutes=1)
        acks = uploads.store_batch(
            storage, chunk, source, received_at=received_at, app_version="demo"
        )
        refused = [ack for ack in acks if ack.status != AckStatus.STORED]
        if refused:
            raise DemoError(f"demo record refused by ingestion: {refused[0]}")
        stored += len(acks)
    spend_visit_links(storage, batch)
    return stored


def spend_visit_links(storage: Storage, batch: DemoBatch) -> None:
    """Mark the links of the visits answered on the phone as used, as the phone survey does:
    one answer per visit."""
    linked = [(r.payload["visit_id"], r.device_time) for r in batch.records if _linked(r)]
    if not linked:
        return
    with storage.write() as connection:
        for visit_id, answered_at in linked:
            visit_links.mark_used(connection, visit_id, answered_at)


def _linked(record: RecordIn) -> bool:
    return record.kind == RecordKind.ANSWER and "visit_id" in record.payload


def keep_fleet_alive(storage: Storage, now: datetime) -> None:
    """Heartbeats up to `now`, as real devices send them day and night, except from the first
    device by name, last heard three days ago: the fleet shows what a silent device looks like."""
    with storage.write() as connection:
        every = devices.all_devices(connection)
        enrolled = sorted((d for d in every if d.enrolled_at), key=lambda d: d.name)
        for index, device in enumerate(enrolled):
            at = now - (timedelta(days=3) if index == 0 else timedelta(minutes=index))
            beat = Heartbeat(
                sent_at=at,
                app_version="demo",
                backlog=0,
                battery_percent=90.0 - index if device.mode == "tablet" else None,
                disk_free_bytes=20_000_000_000,
            )
            health.record_heartbeat(connection, device.id, beat, received_at=at)


def prepare(
    data_dir: Path,
    settings: Settings,
    *,
    now: datetime | None = None,
    seed: int = DEFAULT_SEED,
    town: dict[str, Any] | None = None,
) -> DemoSetup:
    """Create the demo database in `data_dir` and fill it; the storage is left open."""
    town = town or load_town_file()
    settings = settings.model_copy(
        update={
            "database_url": fresh_database(data_dir),
            "min_answers": int(town.get("min_answers", settings.min_answers)),
            "timezone": town.get("timezone", settings.timezone),
        }
    )
    storage = Storage.from_url(settings.database_url, settings.timezone)
    migrations.upgrade(storage)
    with storage.write() as connection:
        town_config.load_town(connection, town)
        survey = surveys.current(connection)
    now = now or datetime.now(UTC)
    holidays = public_holidays.calendar(settings.holidays_region)
    data = generate(town, survey, now, seed, holidays)
    for batch in data.batches:
        ingest_batch(storage, batch)
    keep_fleet_alive(storage, now)
    user = town["demo"]["user"]
    kiosk = town["demo"]["kiosk"]
    with storage.write() as connection:
        users.create(
            connection, username=user["username"], password=user["password"], role=user["role"]
        )
        for service, names in town["demo"].get("staff_names", {}).items():
            triage.set_staff_names(connection, service, names, by=user["username"], now=now)
        code = devices.create(
            connection,
            site=kiosk["site"],
            service=kiosk["service"],
            name=kiosk.get("name"),
            mode="kiosk",
            ttl=timedelta(hours=settings.enrol_code_ttl_hours),
        )
        today = now.astimezone(ZoneInfo(settings.timezone)).date()
        cycle = seed_cycle(connection, town["demo"].get("team", []), now, today, seed)
    close_meetings(storage, settings, cycle.held)
    with storage.read() as connection:
        answers = schema.row_count(connection, "answers")
        visit_events = schema.row_count(connection, "visit_events")
    return DemoSetup(
        storage=storage,
        settings=settings,
        town=town,
        kiosk_code=code.code,
        answers=answers,
        visit_events=visit_events,
        cycle=cycle,
    )


def kiosk_command(data_dir: Path, server_url: str, code: str) -> list[str]:
    return [
        sys.executable, "-m", "kiosk.cli",
        "--data-dir", str(data_dir / "kiosk"),
        "--server", server_url,
        "--enrol-code", code,
    ]  # fmt: skip


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As uvicorn does: a port left in TIME_WAIT by a demo just stopped is free to use.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise DemoError(
                f"port {port} is already in use on {host}; choose another with --port"
            ) from None


def start_server(setup: DemoSetup, host: str, port: int) -> tuple[Any, threading.Thread]:
    """uvicorn in a daemon thread; returns once it accepts connections."""
    import uvicorn

    from sync_server import access_log
    from sync_server.app import UVICORN_OPTIONS, create_app

    app = create_app(setup.settings, setup.storage)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        log_config=access_log.log_config(),
        **UVICORN_OPTIONS,
    )
    server = uvicorn.Server(config)
    started = threading.Event()
    original_startup = server.startup

    async def startup(sockets: Any = None) -> None:
        await original_startup(sockets=sockets)
        started.set()

    server.startup = startup  # type: ignore[method-assign]
    thread = threading.Thread(target=server.run, name="demo-server", daemon=True)
    thread.start()
    while not started.wait(0.1):
        if not thread.is_alive():
            raise DemoError(f"the server did not start on {host}:{port}")
    return server, thread


def run_demo(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    host = "127.0.0.1"
    check_port_free(host, args.port)
    url = f"http://{host}:{args.port}"
    data_dir = Path(args.data_dir)
    out.write(f"Preparing the demo town in {data_dir.resolve()} …\n")
    out.flush()
    setup = prepare(data_dir, settings.model_copy(update={"public_base_url": url}), seed=args.seed)
    server, thread = start_server(setup, host, args.port)
    user = setup.town["demo"]["user"]
    kiosk = setup.town["demo"]["kiosk"]
    command = kiosk_command(data_dir, url, setup.kiosk_code)
    out.write(
        f"\n{setup.answers} answers and {setup.visit_events} visit events loaded.\n"
        f"Dashboard:     {url}/\n"
        f"Demo login:    {user['username']} / {user['password']} (quality manager)\n"
        + "".join(
            f"               {m['username']} / {m['password']} ({m['role'].replace('_', ' ')})\n"
            for m in setup.town["demo"].get("team", [])
        )
        + f"Quality cycle: {setup.cycle.actions} actions, {setup.cycle.audits} internal audits, "
        f"{setup.cycle.meetings} monthly meetings, {setup.cycle.mystery_evaluations} mystery "
        "evaluations over the last twelve months\n"
        f"Phone survey:  {url}/s/{kiosk['site']}/{kiosk['service']}\n"
        f"Kiosk code:    {setup.kiosk_code} (one use)\n"
    )
    kiosk_process = None
    if args.no_kiosk:
        out.write(f"Kiosk not started (--no-kiosk). Start it with:\n  {' '.join(command)}\n")
    elif not has_display():
        out.write(
            "No display found (DISPLAY / WAYLAND_DISPLAY unset): the kiosk window is not opened.\n"
            f"Start it later, from a desktop session, with:\n  {' '.join(command)}\n"
        )
    else:
        kiosk_process = subprocess.Popen(command)  # noqa: S603 -- our own interpreter and module
        out.write(f"Kiosk window started (pid {kiosk_process.pid}).\n")
    out.write("Press Ctrl-C to stop.\n")
    out.flush()
    try:
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        out.write("\nStopping…\n")
    finally:
        server.should_exit = True
        thread.join(5)
        if kiosk_process is not None and kiosk_process.poll() is None:
            kiosk_process.terminate()
            kiosk_process.wait(5)
        setup.storage.close()
    return 0


def demo_settings(settings: Settings) -> Settings:
    """The demo's settings: the one command in development mode (it serves 127.0.0.1 only),
    with a session secret of its own for each run."""
    return settings.model_copy(
        update={"environment": "development", "secret_key": secrets.token_urlsafe(48)}
    )


def cmd_demo(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    try:
        return run_demo(args, demo_settings(settings), out)
    except DemoError as error:
        sys.stderr.write(f"sync-server demo: {error}\n")
        return 1


def register(subparsers: Any) -> None:
    """Add `demo` to the `sync-server` command line (called by `sync_server.cli`)."""
    demo = subparsers.add_parser(
        "demo", help="run a demo town: server with three months of data, and a kiosk"
    )
    demo.add_argument("--data-dir", default=".demo", help="where the demo keeps its files")
    demo.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default 8000)")
    demo.add_argument("--no-kiosk", action="store_true", help="do not open the kiosk window")
    demo.add_argument("--seed", type=int, default=DEFAULT_SEED, help=argparse.SUPPRESS)
    demo.set_defaults(run=cmd_demo)
