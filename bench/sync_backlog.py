"""How fast a kiosk back from a month offline drains its backlog, against bare SQLite.

Run from the repository root:  .venv/bin/python bench/sync_backlog.py [--records 50000]

Figures measured in the same run on the same machine:
1. drain: the real kiosk store and `sync_once` upload the backlog to the real server under
   uvicorn in its own process, on loopback (time and records/s, end to end, the server's
   projection running after each reply as in production);
2. server ingest: `uploads.store_batch(..., project=False)`, what `POST /api/v1/sync` runs before it
   replies (validation, idempotency, clock correction, the `records` log), on a fresh database,
   the same records in the same 500-record batches, one transaction each, no HTTP;
3. bare SQLite: `executemany` of the same rows into a copy of the server's `records` table (its
   columns and indexes), same batches, same pragmas (WAL, synchronous=FULL) — the baseline;
4. for information, the projection (`projection.catch_up`: answers, items, comments, visit events,
   visits and the daily rollups, from the log) that runs after the replies, and ingest plus
   projection together;
5. for information, bare SQLite into every table the server writes per record: the very rows
   written (records, answers, answer_items, comments, visit_events), read back and replayed with
   one `executemany` per table and batch into an empty copy of the server's schema, foreign keys
   on as on the server.
Figures 2 to 5 are the best of `--repeat` runs, interleaved, so other load on the machine hits
them alike. Targets: drain < 30 s on a 2-core machine; server ingest >= 1/3 of bare
SQLite.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.core.clock import ManualClock  # noqa: E402
from kiosk.core.store import KioskStore  # noqa: E402
from kiosk.core.sync import sync_once  # noqa: E402
from kiosk.core.sync_client import SyncClient  # noqa: E402
from qualivilles.bundled import DEMO_TOWN_FILE, load_default_survey  # noqa: E402
from qualivilles.protocol import AnswerPayload, RecordKind, canonical_json  # noqa: E402
from sync_server.storage import (  # noqa: E402
    Source,
    Storage,
    devices,
    migrations,
    projection,
    schema,
    town,
    uploads,
)

BATCH = 500
SITE, SERVICE = "centre-administratif", "iris"
SERVER = """
import sys, uvicorn
from sync_server.app import create_app
from sync_server.settings import Settings
settings = Settings(database_url=sys.argv[1], secret_key="bench-secret-key-not-for-production",
                    environment="development")
uvicorn.run(create_app(settings), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning",
            access_log=False)
"""


def town_storage(path: Path) -> Storage:
    storage = Storage.from_url(f"sqlite:///{path}")
    migrations.upgrade(storage)
    with storage.write() as connection:
        town.load_town(connection, json.loads(DEMO_TOWN_FILE.read_text("utf-8")))
    return storage


def fill_backlog(store: KioskStore, count: int, now: datetime) -> None:
    """A month of answers, spread over the 30 days before `now`."""
    survey = load_default_survey()
    choices = [c.id for c in survey.question(survey.main_question).choices]
    payloads = [
        AnswerPayload(
            survey_id=survey.id,
            survey_version=survey.version,
            channel="kiosk",
            language="fr",
            status="complete",
            answers={survey.main_question: choice},
        )
        for choice in choices
    ]
    start, step = now - timedelta(days=30), timedelta(days=30) / count
    store.enqueue_many(
        (RecordKind.ANSWER, payloads[i % len(payloads)], start + i * step, i) for i in range(count)
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_listening(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the server did not start")


def measure_drain(work: Path, count: int) -> float:
    database = work / "server.db"
    storage = town_storage(database)
    with storage.write() as connection:
        code = devices.create(connection, site=SITE, service=SERVICE).code
    storage.close()
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, f"sqlite:///{database}", str(port)], cwd=ROOT, env=env
    )
    try:
        wait_listening(port)
        url = f"http://127.0.0.1:{port}"
        now = datetime.now(UTC)
        with KioskStore(work / "kiosk.db", ManualClock(now)) as store:
            credentials = SyncClient.enrol(url, code, "bench")
            store.save_credentials(credentials)
            # The month of answers was captured after the kiosk's enrolment, before it went
            # offline: the server refuses records dated before a device's enrolment.
            enrolled = Storage.from_url(f"sqlite:///{database}")
            with enrolled.write() as connection:
                devices.set_enrolled_at(connection, credentials.device_id, now - timedelta(days=31))
            enrolled.close()
            fill_backlog(store, count, now)
            with SyncClient.from_credentials(store.credentials(), timeout=(5, 120)) as client:
                started = time.perf_counter()
                report = sync_once(store, client, batch_count=BATCH, batch_bytes=2_000_000)
                elapsed = time.perf_counter() - started
            if not report.ok or report.forgotten != count or store.backlog():
                raise RuntimeError(f"the backlog did not drain: {report}")
        check = Storage.from_url(f"sqlite:///{database}")
        with check.read() as connection:
            stored = schema.row_count(connection, "records")
        check.close()
        if stored != count:
            raise RuntimeError(f"the server stored {stored} records, not {count}")
        return elapsed
    finally:
        server.terminate()
        server.wait(timeout=30)


def batches_of(store: KioskStore) -> list:
    """Every pending record, in upload batches (read once, outside the timings)."""
    records = []
    seen = 0
    cursor = store.db.execute("SELECT count(*) FROM outbox").fetchone()[0]
    while seen < cursor:
        batch = store.pending_records(BATCH, 2_000_000)
        records.append(batch)
        store.db.execute(
            f"UPDATE outbox SET state = 'rejected' WHERE id IN ({','.join('?' * len(batch))})",
            [str(r.id) for r in batch],
        )
        seen += len(batch)
    return records


def measure_ingest(work: Path, batches: list, database: Path) -> tuple[float, float]:
    """(ingest seconds, projection seconds) for the backlog, as the sync endpoint runs them."""
    storage = town_storage(database)
    with storage.write() as connection:
        device = devices.create(connection, site=SITE, service=SERVICE)
    source = Source(site=SITE, service=SERVICE, channel="kiosk", device_id=device.device_id)
    started = time.perf_counter()
    for batch in batches:
        uploads.store_batch(
            storage, batch, source, received_at=datetime.now(UTC), clock_offset_ms=0, project=False
        )
    ingested = time.perf_counter()
    projected = projection.catch_up(storage)
    finished = time.perf_counter()
    storage.close()
    if projected != sum(len(batch) for batch in batches):
        raise RuntimeError(f"projected {projected} records")
    return ingested - started, finished - ingested


def measure_bare(work: Path, batches: list, run: int) -> float:
    """executemany into a table made from the server's own `records` DDL."""
    template = town_storage(work / "template.db")
    template.close()
    with sqlite3.connect(work / "template.db") as conn:
        [ddl] = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'records'").fetchone()
        # The table's own indexes too (the order index `records_seq`): the equivalent table.
        indexes = [
            row[0]
            for row in conn.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'"
                " AND sql IS NOT NULL"
            )
        ]
    conn = sqlite3.connect(work / f"bare-{run}.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(ddl.replace("REFERENCES devices (id)", ""))
    for index in indexes:
        conn.execute(index)
    columns = [row[1] for row in conn.execute("PRAGMA table_info(records)")]
    now = datetime.now(UTC).isoformat()
    sequence = iter(range(1, 10**9))
    values = {
        "kind": lambda r: r.kind.value,
        "device_id": lambda r: "bench-device",
        "site": lambda r: SITE,
        "service": lambda r: SERVICE,
        "captured_at": lambda r: r.device_time.isoformat(),
        "seq": lambda r: next(sequence),
        "payload_hash": lambda r: r.payload_hash,
        "payload": lambda r: canonical_json(r.payload),
        "device_time": lambda r: r.device_time.isoformat(),
        "monotonic_ms": lambda r: r.monotonic_ms,
        "received_at": lambda r: now,
        "id": lambda r: str(r.id),
    }
    rows = [[tuple(values.get(c, lambda r: None)(r) for c in columns) for r in b] for b in batches]
    sql = f"INSERT INTO records ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    started = time.perf_counter()
    for batch in rows:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, batch)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


# The tables ingestion and projection fill, parents first, each with the column naming its record.
DERIVED = {
    "records": "id",
    "answers": "id",
    "answer_items": "answer_id",
    "comments": "answer_id",
    "visit_events": "id",
}


def measure_bare_all(work: Path, batches: list, ingested: Path, run: int) -> float:
    """executemany of the rows the server wrote, per batch and table, into its own empty schema."""
    target = work / f"bare-all-{run}.db"
    town_storage(target).close()
    batch_of = {str(r.id): number for number, batch in enumerate(batches) for r in batch}
    rows: list[dict[str, list[tuple]]] = [{} for _ in batches]
    statements = {}
    with sqlite3.connect(ingested) as source:
        for table, key in DERIVED.items():
            columns = [
                row[1]
                for row in source.execute(f"PRAGMA table_info({table})")
                if not (table == "comments" and row[1] == "id")  # autoincrement: not written
            ]
            statements[table] = (
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})"
            )
            where = columns.index(key)
            for row in source.execute(f"SELECT {', '.join(columns)} FROM {table}"):
                rows[batch_of[row[where]]].setdefault(table, []).append(row)
    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    started = time.perf_counter()
    for batch in rows:
        conn.execute("BEGIN IMMEDIATE")
        for table in DERIVED:
            if table in batch:
                conn.executemany(statements[table], batch[table])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of figures 2-4 (best kept)")
    arguments = parser.parse_args()
    count, repeat = arguments.records, max(1, arguments.repeat)
    with tempfile.TemporaryDirectory(prefix="qv-bench-") as tmp:
        work = Path(tmp)
        drain = measure_drain(work, count)
        now = datetime.now(UTC)
        with KioskStore(work / "source.db", ManualClock(now)) as store:
            fill_backlog(store, count, now)
            batches = batches_of(store)
        ingests, projections, bares, bares_all = [], [], [], []
        for run in range(repeat):
            ingested = work / f"ingest-{run}.db"
            accept, project = measure_ingest(work, batches, ingested)
            ingests.append(accept)
            projections.append(project)
            bares.append(measure_bare(work, batches, run))
            bares_all.append(measure_bare_all(work, batches, ingested, run))
        ingest, bare, bare_all = min(ingests), min(bares), min(bares_all)
        projection = min(projections)
    print(f"records                 {count}   (figures 2-4: best of {repeat})")
    rate = count / drain
    print(f"drain (HTTP, uvicorn)   {drain:8.2f} s   {rate:10.0f} records/s   target < 30 s")
    print(f"server ingest (Storage) {ingest:8.2f} s   {count / ingest:10.0f} records/s"
          "   (log, as /api/v1/sync before replying)")  # fmt: skip
    print(f"bare executemany        {bare:8.2f} s   {count / bare:10.0f} records/s")
    print(f"projection (after)      {projection:8.2f} s   {count / projection:10.0f} records/s")
    both = ingest + projection
    print(f"ingest + projection     {both:8.2f} s   {count / both:10.0f} records/s")
    print(f"bare, all server tables {bare_all:8.2f} s   {count / bare_all:10.0f} records/s")
    print(f"ingest / bare           {bare / ingest:8.3f}       target >= 0.333")
    print(f"ingest+projection / bare{bare / both:8.3f}       (information)")
    print(f"drain  / bare           {bare / drain:8.3f}")


if __name__ == "__main__":
    main()
