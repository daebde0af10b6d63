"""Time of the comments register's page and export against reading its entries, on a town's years.

    .venv/bin/python bench/register.py [--comments 20000] [--years 3] [--repeat 3]

A temporary SQLite file with the demo town gets `--comments` kiosk comments spread over
`--years`, four in five handled (acknowledged, answered, some closed, by two accounts). The app
runs in-process (FastAPI's test client, a signed-in quality manager). Measured, best of
`--repeat`, each as a ratio to the baseline measured in the same run:

- read:    `quality.register`, every entry (the baseline: the database's part)
- page:    GET /comments (every entry judged against its deadlines, the first 500 rendered)
- filter:  GET /comments?overdue=late&from=…  (one year, deadlines missed)
- export:  GET /comments/export.xlsx (every entry)
- csv:     GET /comments/export.csv (every entry)
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from sync_server.app import create_app  # noqa: E402
from sync_server.storage import Source, quality, uploads  # noqa: E402
from tests.fixtures.server import (  # noqa: E402
    answer_payload,
    log_in_client,
    make_record,
    open_town_storage,
    server_settings_for,
)

KIOSK = Source(site="centre-administratif", service="iris", channel="kiosk")


def fill(storage, comments: int, years: int, rng: random.Random) -> None:
    now = datetime.now(UTC)
    start = now - timedelta(days=365 * years)
    span = int((now - start).total_seconds())
    moments = sorted(start + timedelta(seconds=rng.randrange(span)) for _ in range(comments))
    for first in range(0, comments, 500):
        records = [
            make_record(
                answer_payload("dissatisfied", comment=f"Attente trop longue n° {i}"), at=at
            )
            for i, at in enumerate(moments[first : first + 500], start=first)
        ]
        uploads.store_batch(storage, records, KIOSK)
    with storage.read() as connection:
        entries = quality.register(connection)
    with storage.write() as connection:
        for entry in entries:
            if rng.random() >= 0.8:
                continue
            at = entry.received_at + timedelta(days=rng.randrange(0, 10))
            who = rng.choice(["qualite", "chef-iris"])
            quality.update_register(connection, entry.id, action="acknowledge", by=who, now=at)
            at += timedelta(days=rng.randrange(1, 20))
            quality.update_register(connection, entry.id, action="answer", by=who, now=at,
                                    reply="Merci, transmis au service.")  # fmt: skip
            if rng.random() < 0.5:
                quality.update_register(connection, entry.id, action="close", by="qualite",
                                        now=at + timedelta(days=1))  # fmt: skip


def best(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=20_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as directory:
        settings = server_settings_for(Path(directory), purge_daily=False)
        storage = open_town_storage(settings)
        filled = time.perf_counter()
        fill(storage, args.comments, args.years, rng)
        print(f"{args.comments} comments over {args.years} years stored in"
              f" {time.perf_counter() - filled:.1f} s")  # fmt: skip
        last_year = (datetime.now(UTC) - timedelta(days=365)).date().isoformat()
        with TestClient(create_app(settings, storage)) as client:
            log_in_client(client, "qualite")

            def get(path: str) -> Callable[[], object]:
                def run() -> None:
                    response = client.get(path)
                    assert response.status_code == 200, (path, response.status_code)

                return run

            def read() -> None:
                with storage.read() as connection:
                    quality.register(connection)

            baseline = best(args.repeat, read)
            print(f"{'read':8} {baseline * 1000:8.0f} ms   1.0 x")
            for name, path in (
                ("page", "/comments"),
                ("filter", f"/comments?overdue=late&from={last_year}"),
                ("export", "/comments/export.xlsx"),
                ("csv", "/comments/export.csv"),
            ):
                took = best(args.repeat, get(path))
                print(f"{name:8} {took * 1000:8.0f} ms {took / baseline:5.1f} x")
        storage.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
