"""How the server scales out: a fleet's steady load on PostgreSQL with one and three server
processes, and on SQLite with one, in the same run.

Run from the repository root:

    .venv/bin/python bench/scale_out.py [--seconds 20] [--devices 60] [--processes 1,3]
                                        [--engines postgresql,sqlite]

For each configuration the bench makes a fresh database (a throwaway PostgreSQL cluster from
Debian's binaries, see `tests/tools/postgres_cluster.py`, or a SQLite file), runs
`sync-server migrate` and `load-town` (the demo town), then `sync-server serve --workers N`: N
processes on one port, the kernel handing each new connection to one of them. Then:

1. cycle profile: one device, alone, runs `--profile-cycles` syncs of 50 records, then as many
   config fetches, then as many heartbeats; the server's CPU (its processes and PostgreSQL's,
   from /proc) per request of each kind. The config fetch and the heartbeat are the part of a
   device's cycle that is not ingest;
2. load: after `--warm-up` seconds of the same load, not measured (every process's first pages
   and connections under the fleet's first burst), `--devices` devices enrolled through
   `POST /api/v1/enrol` (two kiosks for one tablet, spread over the town's desks) each loop,
   back to back, with the kiosk's own `SyncClient`, on a cycle of
   `POST /api/v1/sync` (50 records: kiosk answers, or a tablet's visits arrived and taken in
   charge), `GET /api/v1/config` with the ETag of the last one, `POST /api/v1/heartbeat`; a
   phone visitor answers the survey every `1 / --phone-rate` seconds (each from its own
   address, through a trusted proxy's X-Forwarded-For); a signed-in quality manager reloads the
   dashboard (`GET /`) every `--dashboard-every` seconds;
3. catch-up: the projection (answers, visit events, rollups) runs after the replies; the bench
   polls until the figures' tables hold every record, and says how long that took;
4. paced: the same fleet for as long again, each device one cycle every `--paced-every` seconds
   (kiosks sync at their own pace, well below what the server can take): the sync and dashboard
   latencies a desk sees on an ordinary day (the records count in the exactly-once checks);
5. exactly once: every record acknowledged stored or duplicate is in `records` once, no id twice;
   `answers` and `visit_events` hold each of them once (and the phone answers); the daily rollups
   (`answer_days`, `item_days`) equal a GROUP BY of the answers.

Printed per configuration: records/s stored, p50/p95 sync latency, p95 dashboard latency (back
to back, and paced), CPU-seconds per 1,000 records (server processes and PostgreSQL, load and
catch-up; then split between the server processes and PostgreSQL, beside how busy the machine's
cores were: a share near 100 % means the configuration is bounded by this machine, not by the
server), then the ratio of PostgreSQL x3 to x1; with `--baseline REV` (a git revision), the
same configurations with that revision's server first, and the ratios of this one to it. The
load generator runs in this process: on a small machine it takes CPU from the server too (its own
CPU is printed).
"""

from __future__ import annotations

import argparse
import html
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from kiosk.core.sync_client import SyncClient  # noqa: E402
from qualivilles.bundled import DEMO_TOWN_FILE, load_default_survey  # noqa: E402
from qualivilles.protocol import (  # noqa: E402
    FORGETTABLE,
    AckStatus,
    Heartbeat,
    RecordIn,
    RecordKind,
    new_record_id,
    payload_hash,
)
from sync_server.session_cookie import cookie_name  # noqa: E402
from sync_server.settings import Settings  # noqa: E402
from sync_server.storage import Storage, devices, town  # noqa: E402
from tests.fixtures.server import add_user, signed_in_cookie  # noqa: E402
from tests.tools.postgres_cluster import free_port, running_cluster  # noqa: E402

BATCH = 50
SECRET = "bench-secret-key-not-for-production"
PHONE_DESK = ("centre-administratif", "iris")
TICKS = os.sysconf("SC_CLK_TCK")


# CPU from /proc ---------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process and of its reaped children)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return int(fields[1]), (utime + stime + cutime + cstime) / TICKS


def tree_cpu(roots: list[int]) -> float:
    """CPU seconds used so far by the processes `roots` and all their descendants (those that
    exited count through their parent's reaped-children times)."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (found := _stat(int(entry.name))) is not None:
            stats[int(entry.name)] = found
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0.0, [pid for pid in roots if pid in stats]
    while todo:
        pid = todo.pop()
        total += stats[pid][1]
        todo.extend(children.get(pid, []))
    return total


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# The server ----------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    database_url: str
    process: subprocess.Popen
    settings: Settings
    cpu_roots: list[int]

    def cpu(self) -> float:
        return tree_cpu(self.cpu_roots)

    def cpu_of_server(self) -> float:
        """The server processes' own share of `cpu` (the rest is PostgreSQL's)."""
        return tree_cpu([self.process.pid])


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of every core since boot, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields) - idle) / TICKS, sum(fields) / TICKS


def cli(env: dict[str, str], *arguments: str) -> None:
    root = env["PYTHONPATH"]
    command = [sys.executable, "-m", "sync_server.cli", *arguments]
    result = subprocess.run(command, env=env, cwd=root, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"sync-server {' '.join(arguments)}: {result.stderr}")


@contextmanager
def running_server(
    database_url: str, processes: int, work: Path, extra_roots: list[int], code: Path = ROOT
) -> Iterator[Server]:
    """`sync-server migrate`, `load-town`, then `serve --workers processes` on a free port."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    values = {
        "QV_DATABASE_URL": database_url,
        "QV_SECRET_KEY": SECRET,
        "QV_ENVIRONMENT": "development",
        "QV_PUBLIC_BASE_URL": url,
        "QV_TRUSTED_PROXIES": "127.0.0.1",
        "QV_PDF_WARM_UP": "false",
    }
    env = {**os.environ, "PYTHONPATH": str(code), **values}
    cli(env, "migrate")
    cli(env, "load-town", str(DEMO_TOWN_FILE))
    log = (work / f"serve-{port}.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "sync_server.cli", "serve", "--port", str(port),
         "--workers", str(processes)],
        env=env, cwd=code, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited: {(work / log.name).read_text()[-2000:]}")
            try:
                if requests.get(f"{url}/health/ready", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        settings = Settings(database_url=database_url, secret_key=SECRET, environment="development")
        yield Server(url, database_url, process, settings, [process.pid, *extra_roots])
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


# The fleet -----------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the clients saw, shared by their threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: dict[RecordKind, set[str]] = field(
        default_factory=lambda: {RecordKind.ANSWER: set(), RecordKind.VISIT_EVENT: set()}
    )
    stored: int = 0
    sync_seconds: list[float] = field(default_factory=list)
    config_seconds: list[float] = field(default_factory=list)
    config_unchanged: int = 0
    heartbeat_seconds: list[float] = field(default_factory=list)
    dashboard_seconds: list[float] = field(default_factory=list)
    phone_answers: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class Device:
    token: str
    mode: str
    etag: str | None = None


CHOICES = [c.id for c in load_default_survey().question("overall").choices]


def answer_batch(now: datetime) -> list[RecordIn]:
    records = []
    for index in range(BATCH):
        payload = {
            "survey_id": "qualivilles-accueil",
            "survey_version": 1,
            "channel": "kiosk",
            "language": "fr",
            "status": "complete",
            "answers": {"overall": random.choice(CHOICES)},
        }
        at = now - timedelta(seconds=BATCH - index)
        records.append(record(RecordKind.ANSWER, payload, at))
    return records


def visit_batch(now: datetime) -> list[RecordIn]:
    records = []
    for _ in range(BATCH // 2):
        visit = str(uuid.uuid4())
        wait = random.randint(30, 1200)
        arrived = now - timedelta(seconds=wait + 5)
        records.append(record(RecordKind.VISIT_EVENT, {"visit_id": visit, "event": "arrived"},
                              arrived))  # fmt: skip
        taken = {"visit_id": visit, "event": "taken_in_charge", "wait_seconds": wait}
        records.append(record(RecordKind.VISIT_EVENT, taken, arrived + timedelta(seconds=wait)))
    return records


# An answer's payload is one of a few: its hash is worked out once (the load generator shares the
# server's cores, and what it spends is not spent serving).
_HASHES: dict[str, str] = {}


def record(kind: RecordKind, payload: dict, at: datetime) -> RecordIn:
    text = repr(payload)
    known = _HASHES.get(text) if kind == RecordKind.ANSWER else None
    if known is None:
        known = payload_hash(payload)
        if kind == RecordKind.ANSWER:
            _HASHES[text] = known
    return RecordIn(
        id=new_record_id(), kind=kind, payload_hash=known, device_time=at, monotonic_ms=1000,
        payload=payload,
    )  # fmt: skip


def enrol_fleet(server: Server, count: int) -> list[Device]:
    """`count` devices over the town's desks, two kiosks for one tablet, enrolled over HTTP."""
    storage = Storage.from_url(server.database_url)
    try:
        with storage.write() as connection:
            desks = town.desks(connection)
            codes = []
            for index in range(count):
                desk = desks[index % len(desks)]
                mode = "tablet" if index % 3 == 2 else "kiosk"
                code = devices.create(
                    connection, site=desk.site.slug, service=desk.service.slug, mode=mode
                )
                codes.append((code.code, mode))
    finally:
        storage.close()
    return [Device(SyncClient.enrol(server.url, code).token, mode) for code, mode in codes]


def cycle(client: SyncClient, device: Device, tally: Tally) -> None:
    """One pass as the kiosk runs it: upload a batch, refresh the config, send a heartbeat."""
    now = datetime.now(UTC)
    records = answer_batch(now) if device.mode == "kiosk" else visit_batch(now)
    started = time.perf_counter()
    acks = client.upload(records)
    synced = time.perf_counter()
    config, etag = client.fetch_config(device.etag)
    fetched = time.perf_counter()
    client.heartbeat(Heartbeat(sent_at=datetime.now(UTC), app_version="bench", backlog=0))
    beaten = time.perf_counter()
    device.etag = etag
    kinds = {str(r.id): r.kind for r in records}
    with tally.lock:
        for ack in acks:
            if ack.status in FORGETTABLE:
                tally.acked[kinds[str(ack.id)]].add(str(ack.id))
                tally.stored += ack.status == AckStatus.STORED
            else:
                tally.errors.append(f"record {ack.id} acked {ack.status}: {ack.code}")
        tally.sync_seconds.append(synced - started)
        tally.config_seconds.append(fetched - synced)
        tally.config_unchanged += config is None
        tally.heartbeat_seconds.append(beaten - fetched)


def run_device(
    server: Server, device: Device, stop_at: float, tally: Tally, every: float = 0.0
) -> None:
    """Cycles until `stop_at`: back to back, or one every `every` seconds from a random start
    (a fleet syncing at its own pace, as kiosks do)."""
    next_at = time.monotonic() + random.uniform(0, every)
    with SyncClient(server.url, device.token, timeout=(5, 120)) as client:
        while time.monotonic() < stop_at:
            if every:
                time.sleep(max(0.0, next_at - time.monotonic()))
                next_at += every
                if time.monotonic() >= stop_at:
                    return
            try:
                cycle(client, device, tally)
            except Exception as error:  # reported after the run
                with tally.lock:
                    tally.errors.append(f"device: {error!r}")
                return


QUESTION = re.compile(r'name="q" value="([^"]+)"')
STATE = re.compile(r'name="st" value="([^"]+)"')


def phone_answer(session: requests.Session, base: str, number: int) -> None:
    """A visitor answers on their phone: the main answer, the next page, then "finish now"."""
    survey = f"{base}/s/{PHONE_DESK[0]}/{PHONE_DESK[1]}"
    address = f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"
    headers = {"X-Forwarded-For": address}
    choice = random.choice(CHOICES)
    main = session.post(
        survey, data={"q": "overall", "answer": choice, "lang": "fr"},
        headers=headers, allow_redirects=False, timeout=60,
    )  # fmt: skip
    if main.status_code != 303:
        raise RuntimeError(f"phone answer: {main.status_code}")
    page = session.get(base + main.headers["location"], headers=headers, timeout=60)
    question, state = QUESTION.search(page.text), STATE.search(page.text)
    if page.status_code != 200 or question is None or state is None:
        raise RuntimeError(f"phone follow-up page: {page.status_code}")
    done = session.post(
        survey, data={"st": html.unescape(state[1]), "q": question[1], "lang": "fr",
                      "action": "finish"},
        headers=headers, allow_redirects=False, timeout=60,
    )  # fmt: skip
    if done.status_code != 303 or "/merci" not in done.headers.get("location", ""):
        raise RuntimeError(f"phone finish: {done.status_code}")


def paced(every: float, stop_at: float, tally: Tally, one: Callable[[int], None]) -> None:
    """Call `one(n)` every `every` seconds until `stop_at`."""
    number, next_at = 0, time.monotonic()
    while next_at < stop_at:
        time.sleep(max(0.0, next_at - time.monotonic()))
        try:
            one(number)
        except Exception as error:  # reported after the run
            with tally.lock:
                tally.errors.append(repr(error))
            return
        number += 1
        next_at += every


def dashboard_session(server: Server) -> requests.Session:
    storage = Storage.from_url(server.database_url)
    try:
        add_user(storage, "qualite")
        cookie = signed_in_cookie(storage, server.settings, "qualite")
    finally:
        storage.close()
    session = requests.Session()
    session.cookies.set(cookie_name(server.settings), cookie)
    return session


def run_load(
    server: Server,
    fleet: list[Device],
    dashboard: requests.Session,
    args: argparse.Namespace,
    every: float = 0.0,
    seconds: float | None = None,
) -> tuple[Tally, float]:
    tally = Tally()
    stop_at = time.monotonic() + (args.seconds if seconds is None else seconds)
    with ExitStack() as stack:
        phone = stack.enter_context(requests.Session())

        def one_phone(number: int) -> None:
            phone_answer(phone, server.url, number)
            with tally.lock:
                tally.phone_answers += 1

        def one_dashboard(_: int) -> None:
            started = time.perf_counter()
            response = dashboard.get(f"{server.url}/", timeout=60)
            if response.status_code != 200:
                raise RuntimeError(f"dashboard: {response.status_code}")
            with tally.lock:
                tally.dashboard_seconds.append(time.perf_counter() - started)

        threads = [
            threading.Thread(target=run_device, args=(server, device, stop_at, tally, every))
            for device in fleet
        ]
        threads.append(threading.Thread(
            target=paced, args=(1 / args.phone_rate, stop_at, tally, one_phone)))  # fmt: skip
        threads.append(threading.Thread(
            target=paced, args=(args.dashboard_every, stop_at, tally, one_dashboard)))  # fmt: skip
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    return tally, elapsed


# Profile of one device's cycle ---------------------------------------------------------------


@dataclass(frozen=True)
class CycleProfile:
    """Server CPU milliseconds and client-side latency per request, by kind."""

    cpu_ms: dict[str, float]
    latency_ms: dict[str, float]


def profile_cycle(server: Server, device: Device, cycles: int, tally: Tally) -> CycleProfile:
    """One device alone: `cycles` syncs, then config fetches, then heartbeats."""
    cpu_ms, latency_ms = {}, {}
    with SyncClient(server.url, device.token, timeout=(5, 120)) as client:
        cycle(client, device, tally)  # warm: connection, caches, first config
        steps: dict[str, Callable[[], object]] = {
            "sync (50 records)": lambda: cycle_sync(client, device, tally),
            "config": lambda: client.fetch_config(device.etag),
            "heartbeat": lambda: client.heartbeat(
                Heartbeat(sent_at=datetime.now(UTC), app_version="bench", backlog=0)
            ),
        }
        for name, step in steps.items():
            before, started = server.cpu(), time.perf_counter()
            for _ in range(cycles):
                step()
            latency_ms[name] = (time.perf_counter() - started) * 1000 / cycles
            if name.startswith("sync"):
                wait_caught_up(server, 60)  # the projection after the replies is the sync's
            cpu_ms[name] = (server.cpu() - before) * 1000 / cycles
    return CycleProfile(cpu_ms, latency_ms)


def cycle_sync(client: SyncClient, device: Device, tally: Tally) -> None:
    records = answer_batch(datetime.now(UTC)) if device.mode == "kiosk" else visit_batch(
        datetime.now(UTC))  # fmt: skip
    kinds = {str(r.id): r.kind for r in records}
    for ack in client.upload(records):
        if ack.status in FORGETTABLE:
            tally.acked[kinds[str(ack.id)]].add(str(ack.id))
        else:
            tally.errors.append(f"record {ack.id} acked {ack.status}")


# Catch-up and the exactly-once checks --------------------------------------------------------


def wait_caught_up(server: Server, timeout: float) -> float:
    """Seconds until the projection has nothing pending (bounded by `timeout`)."""
    storage = Storage.from_url(server.database_url)
    started = time.monotonic()
    try:
        while True:
            with storage.read() as connection:
                # Every record is in the figures' tables (this works on the baseline's schema too).
                logged, projected = connection.exec_driver_sql(
                    "SELECT (SELECT count(*) FROM records),"
                    " (SELECT count(*) FROM answers) + (SELECT count(*) FROM visit_events)"
                ).one()
                if logged == projected:
                    return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"the projection did not catch up within {timeout:g} s")
            time.sleep(0.1)
    finally:
        storage.close()


def ids_once(connection: sa.Connection, table: str, where: str = "") -> tuple[set[str], int]:
    """The ids of `table` and how many ids appear more than once."""
    rows = connection.exec_driver_sql(f"SELECT id FROM {table} {where}").scalars().all()
    return set(rows), len(rows) - len(set(rows))


ROLLUP_CHECKS = {
    "answer_days": (
        "SELECT site, service, day, sum(answers) FROM answer_days GROUP BY site, service, day",
        "SELECT site, service, day, count(*) FROM answers GROUP BY site, service, day",
    ),
    "item_days": (
        "SELECT site, service, day, question_id, value, sum(answers) FROM item_days"
        " GROUP BY site, service, day, question_id, value",
        "SELECT a.site, a.service, a.day, i.question_id, i.value, count(*)"
        " FROM answers a JOIN answer_items i ON i.answer_id = a.id"
        " GROUP BY a.site, a.service, a.day, i.question_id, i.value",
    ),
}


def exactly_once(server: Server, tally: Tally) -> list[str]:
    """What is wrong with the stored records and figures (empty: every check passed)."""
    problems = []
    answers, visits = tally.acked[RecordKind.ANSWER], tally.acked[RecordKind.VISIT_EVENT]
    storage = Storage.from_url(server.database_url)
    try:
        with storage.read() as connection:
            logged, twice = ids_once(connection, "records")
            if twice or not answers | visits <= logged:
                problems.append(f"records: {len(answers | visits - logged)} acked missing, "
                                f"{twice} twice")  # fmt: skip
            projected, twice = ids_once(connection, "answers")
            phone = len(projected - answers)
            if twice or not answers <= projected or phone != tally.phone_answers:
                problems.append(f"answers: {len(answers - projected)} missing, {twice} twice,"
                                f" {phone} phone for {tally.phone_answers} sent")  # fmt: skip
            events, twice = ids_once(connection, "visit_events")
            if twice or events != visits:
                problems.append(f"visit_events: {len(visits - events)} missing, "
                                f"{len(events - visits)} unknown, {twice} twice")  # fmt: skip
            for table, (rollup, raw) in ROLLUP_CHECKS.items():
                rolled = sorted(map(tuple, connection.exec_driver_sql(rollup).all()))
                counted = sorted(map(tuple, connection.exec_driver_sql(raw).all()))
                if rolled != counted:
                    problems.append(f"{table} differs from a GROUP BY of the answers")
    finally:
        storage.close()
    return problems


# A configuration, start to end ---------------------------------------------------------------


@dataclass
class Result:
    name: str
    stored_per_second: float
    sync_p50: float
    sync_p95: float
    dashboard_p95: float
    config_p50: float
    heartbeat_p50: float
    cpu_per_thousand: float
    server_cpu_per_thousand: float
    machine_busy: float
    catch_up: float
    paced_sync_p50: float
    paced_sync_p95: float
    paced_dashboard_p95: float
    phone_answers: int
    config_unchanged: float
    profile: CycleProfile
    problems: list[str]


def run_configuration(
    name: str, database_url: str, processes: int, work: Path, args: argparse.Namespace,
    postgres_pid: int | None, code: Path = ROOT,
) -> Result:  # fmt: skip
    roots = [postgres_pid] if postgres_pid else []
    with running_server(database_url, processes, work, roots, code) as server:
        fleet = enrol_fleet(server, args.devices + 1)
        tally = Tally()
        profile = profile_cycle(server, fleet.pop(), args.profile_cycles, tally)
        # Every process's first pages and connections, under the fleet's first burst: not measured.
        # One quality manager, signed in once, reading all along as the phases follow each other.
        dashboard = dashboard_session(server)
        warm, _ = run_load(server, fleet, dashboard, args, seconds=args.warm_up)
        cpu_before, own_before, busy_before = server.cpu(), server.cpu_of_server(), machine_busy()
        load, elapsed = run_load(server, fleet, dashboard, args)
        catch_up = wait_caught_up(server, args.catch_up_timeout)
        cpu, own = server.cpu() - cpu_before, server.cpu_of_server() - own_before
        busy_after = machine_busy()
        busy = (busy_after[0] - busy_before[0]) / (busy_after[1] - busy_before[1])
        paced, _ = run_load(server, fleet, dashboard, args, every=args.paced_every)
        dashboard.close()
        wait_caught_up(server, args.catch_up_timeout)
        for kind, ids in [*tally.acked.items(), *warm.acked.items(), *paced.acked.items()]:
            load.acked[kind] |= ids
        load.errors.extend(tally.errors + warm.errors + paced.errors)
        counted_phone_answers = load.phone_answers
        load.phone_answers += warm.phone_answers + paced.phone_answers
        problems = load.errors[:5] + exactly_once(server, load)
    records = load.stored + counted_phone_answers
    return Result(
        name=name,
        stored_per_second=load.stored / elapsed,
        sync_p50=percentile(load.sync_seconds, 0.5),
        sync_p95=percentile(load.sync_seconds, 0.95),
        dashboard_p95=percentile(load.dashboard_seconds, 0.95),
        config_p50=percentile(load.config_seconds, 0.5),
        heartbeat_p50=percentile(load.heartbeat_seconds, 0.5),
        cpu_per_thousand=cpu * 1000 / max(records, 1),
        server_cpu_per_thousand=own * 1000 / max(records, 1),
        machine_busy=busy,
        catch_up=catch_up,
        paced_sync_p50=percentile(paced.sync_seconds, 0.5),
        paced_sync_p95=percentile(paced.sync_seconds, 0.95),
        paced_dashboard_p95=percentile(paced.dashboard_seconds, 0.95),
        phone_answers=load.phone_answers,
        config_unchanged=load.config_unchanged / max(len(load.config_seconds), 1),
        profile=profile,
        problems=problems,
    )


def report(results: list[Result], client_cpu: float) -> None:
    print()
    print(f"{'configuration':24} {'records/s':>9} {'sync p50':>9} {'sync p95':>9} "
          f"{'dash p95':>9} {'CPU-s/1k':>9} {'catch-up':>9}  exactly once")  # fmt: skip
    for r in results:
        verdict = "yes" if not r.problems else "NO: " + "; ".join(r.problems)
        print(f"{r.name:24} {r.stored_per_second:9.0f} {r.sync_p50 * 1000:7.0f}ms "
              f"{r.sync_p95 * 1000:7.0f}ms {r.dashboard_p95 * 1000:7.0f}ms "
              f"{r.cpu_per_thousand:9.2f} {r.catch_up:8.1f}s  {verdict}")  # fmt: skip
    print()
    print("where the CPU went (back to back): CPU-s per 1,000 records, the machine's cores busy")
    print(f"{'configuration':24} {'server':>9} {'PostgreSQL':>10} {'cores busy':>10}")
    for r in results:
        postgres = r.cpu_per_thousand - r.server_cpu_per_thousand
        print(f"{r.name:24} {r.server_cpu_per_thousand:9.2f} {postgres:10.2f} "
              f"{r.machine_busy:10.0%}")  # fmt: skip
    print()
    print("paced: the same fleet, each device a cycle every --paced-every seconds")
    print(f"{'configuration':24} {'sync p50':>9} {'sync p95':>9} {'dash p95':>9}")
    for r in results:
        print(f"{r.name:24} {r.paced_sync_p50 * 1000:7.0f}ms {r.paced_sync_p95 * 1000:7.0f}ms "
              f"{r.paced_dashboard_p95 * 1000:7.0f}ms")  # fmt: skip
    print()
    print("besides ingest, per device cycle (load: client p50; profile: one device alone)")
    print(f"{'configuration':24} {'config p50':>10} {'304 share':>9} {'beat p50':>9}   "
          "server CPU ms per request: sync / config / heartbeat")  # fmt: skip
    for r in results:
        cpu = r.profile.cpu_ms
        print(f"{r.name:24} {r.config_p50 * 1000:8.1f}ms {r.config_unchanged:9.0%} "
              f"{r.heartbeat_p50 * 1000:7.1f}ms   {cpu['sync (50 records)']:6.1f} / "
              f"{cpu['config']:5.1f} / {cpu['heartbeat']:5.1f}")  # fmt: skip
    by_name = {r.name: r for r in results}
    one, three = by_name.get("PostgreSQL x1"), by_name.get("PostgreSQL x3")
    if one and three:
        print(f"\nPostgreSQL x3 / x1: x{three.stored_per_second / one.stored_per_second:.2f}")
    for r in results:
        base = by_name.get(f"{r.name} (baseline)")
        if base:
            speed = r.stored_per_second / base.stored_per_second
            cpu = r.cpu_per_thousand / base.cpu_per_thousand
            print(f"{r.name} / baseline: records/s x{speed:.2f}, CPU per 1,000 records x{cpu:.2f}")
    base_one = by_name.get("PostgreSQL x1 (baseline)")
    if three and base_one:
        speed = three.stored_per_second / base_one.stored_per_second
        print(f"PostgreSQL x3 / baseline x1: x{speed:.2f}")
    print(f"phone answers: {', '.join(f'{r.name} {r.phone_answers}' for r in results)}; "
          f"load generator's own CPU: {client_cpu:.1f} s")  # fmt: skip


@contextmanager
def checkout(revision: str, work: Path) -> Iterator[Path]:
    """The server's code at `revision`, in a temporary git worktree."""
    path = work / "baseline"
    subprocess.run(["git", "worktree", "add", "--detach", str(path), revision], cwd=ROOT,
                   check=True, capture_output=True)  # fmt: skip
    try:
        yield path
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT,
                       check=False, capture_output=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="load per configuration")
    parser.add_argument("--devices", type=int, default=60)
    parser.add_argument("--processes", default="1,3", help="PostgreSQL server processes")
    parser.add_argument("--engines", default="postgresql,sqlite")
    parser.add_argument("--phone-rate", type=float, default=1.0, help="phone answers per second")
    parser.add_argument("--dashboard-every", type=float, default=2.0, help="seconds")
    parser.add_argument("--profile-cycles", type=int, default=30)
    parser.add_argument(
        "--warm-up", type=float, default=5.0, help="seconds of load before the measured ones"
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also run the server of this git revision first (e.g. a release tag), for ratios",
    )
    parser.add_argument(
        "--paced-every", type=float, default=10.0, help="seconds between a device's cycles"
    )
    parser.add_argument("--catch-up-timeout", type=float, default=300.0, help="seconds")
    args = parser.parse_args()
    engines = [engine.strip() for engine in args.engines.split(",")]
    counts = [int(count) for count in args.processes.split(",")]
    results = []
    client_start = time.process_time()
    with tempfile.TemporaryDirectory(prefix="qv-scale-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        versions = [("", ROOT)]
        if args.baseline:
            versions.insert(0, (" (baseline)", stack.enter_context(checkout(args.baseline, work))))
        for suffix, code in versions:
            for engine in engines:
                if engine == "postgresql":
                    cluster = stack.enter_context(running_cluster("max_connections=200"))
                    for count in counts:
                        database = cluster.create_database("bench")
                        name = f"PostgreSQL x{count}{suffix}"
                        print(f"{name} ...", flush=True)
                        results.append(run_configuration(
                            name, cluster.url(database), count, work, args,
                            cluster.postmaster_pid, code,
                        ))  # fmt: skip
                        cluster.drop_database(database)
                elif engine == "sqlite":
                    name = f"SQLite x1{suffix}"
                    print(f"{name} ...", flush=True)
                    url = f"sqlite:///{work / f'bench{len(results)}.db'}"
                    results.append(run_configuration(name, url, 1, work, args, None, code))
                else:
                    parser.error(f"unknown engine {engine!r}")
    report(results, time.process_time() - client_start)


if __name__ == "__main__":
    main()
