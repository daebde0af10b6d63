"""Time and memory of the exports against reading their rows, on the demo town's data.

    .venv/bin/python bench/exports.py [--repeat 3]

A temporary SQLite file gets the demo data (`sync_server.demo`: months of answers and visits at
every desk). The app runs in-process (FastAPI's test client, a signed-in quality manager).
Measured, best of `--repeat`, each as a ratio to the baseline measured in the same run, with
the peak of memory allocated by Python during one download (tracemalloc):

- read:        `exports.answer_rows`, a year of answers (the baseline: the database's part)
- answers.csv: GET /export/answers.csv for that year
- answers.xlsx GET /export/answers.xlsx for that year (one sheet and its dictionary)
- visits.xlsx  GET /export/visits.xlsx for that year
- indicators:  GET /export/indicators.xlsx for that year (five sheets)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from qualivilles.bundled import load_default_survey  # noqa: E402
from sync_server.app import create_app  # noqa: E402
from sync_server.demo.command import ingest_batch  # noqa: E402
from sync_server.demo.data import generate  # noqa: E402
from sync_server.indicators.periods import containing  # noqa: E402
from sync_server.storage import exports  # noqa: E402
from sync_server.web.figures import today  # noqa: E402
from tests.fixtures.server import (  # noqa: E402
    TOWN,
    log_in_client,
    open_town_storage,
    server_settings_for,
)


def best(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def peak(run: Callable[[], object]) -> float:
    """MB allocated at the peak of one run."""
    tracemalloc.start()
    run()
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return top / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        settings = server_settings_for(Path(directory), purge_daily=False)
        storage = open_town_storage(settings)
        demo = generate(TOWN, load_default_survey(), datetime.now(UTC))
        for batch in demo.batches:
            ingest_batch(storage, batch)
        year = containing("year", today(settings))
        start, end = year.bounds(ZoneInfo(settings.timezone))
        with storage.read() as connection:
            count = sum(1 for _ in exports.answer_rows(connection, start, end))
        print(f"demo data: {count} answers in {year.key}")
        with TestClient(create_app(settings, storage)) as client:
            log_in_client(client, "qualite")

            def get(path: str) -> Callable[[], object]:
                def run() -> None:
                    response = client.get(path)
                    assert response.status_code == 200, (path, response.status_code)

                return run

            def read() -> None:
                with storage.read() as connection:
                    list(exports.answer_rows(connection, start, end))

            baseline = best(args.repeat, read)
            print(f"{'read':12} {baseline * 1000:8.0f} ms   1.0 x {peak(read):7.1f} MB")
            query = f"kind=year&period={year.key}"
            for name, path in (
                ("answers.csv", f"/export/answers.csv?{query}"),
                ("answers.xlsx", f"/export/answers.xlsx?{query}"),
                ("visits.xlsx", f"/export/visits.xlsx?{query}"),
                ("indicators", f"/export/indicators.xlsx?{query}"),
            ):
                took = best(args.repeat, get(path))
                memory = peak(get(path))
                print(f"{name:12} {took * 1000:8.0f} ms {took / baseline:5.1f} x {memory:7.1f} MB")
        storage.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
