"""Dashboard pages at town-scale volume, against a plain GROUP BY over the same tables.

    .venv/bin/python bench/indicators.py [--answers 2000000] [--visits 1000000] [--months 24]

Generates answers (with their main-question and one follow-up item) and visits spread over the
demo town's desks and the weekdays' opening hours (8:30–17:30) of the last `--months` months into
a temp SQLite file (plain executemany,
not the ingestion path: this measures reading; the answers' local days and the daily rollups
that projection keeps up to date are then built once by `rollups.rebuild`), then times,
in the same run:

- baseline: one `GROUP BY site, service, main_level` over the month's answers (the least any
  overview must do without a rollup);
- overview computation: `pipeline.compute` for that month over every desk, with the cards'
  parts (what `/` computes);
- service computation: `pipeline.compute` for one service with every figure (the `EVERY`
  parts: desk table and wait section in one computation) and the 12-month satisfaction trend
  (`pipeline.compute_months` with the `SATISFACTION` parts, as the page asks); for information,
  the same 12 months with every figure (what the JSON API computes for a year);
- the pages themselves: `GET /` and `GET /service/{service}` from the real application
  (TestClient, a signed-in quality manager): computation, SVG charts and HTML, the first view
  (charts drawn) and again (charts with the same figures are kept).

Prints each median of `--repeat` runs and its ratio to the baseline. The target: every
dashboard page under 300 ms at 2 million answers and 1 million visits.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from sync_server.app import create_app  # noqa: E402
from sync_server.indicators import pipeline  # noqa: E402
from sync_server.indicators.periods import containing  # noqa: E402
from sync_server.indicators.query import (  # noqa: E402
    CARDS,
    EVERY,
    SATISFACTION,
    IndicatorQuery,
    Rules,
    Scope,
)
from sync_server.settings import Settings  # noqa: E402
from sync_server.storage import Storage, migrations, rollups, surveys, town, users  # noqa: E402

TOWN = json.loads((ROOT / "assets" / "demo" / "town.json").read_text(encoding="utf-8"))
CHOICES = [("very_dissatisfied", 0), ("dissatisfied", 1), ("satisfied", 2), ("very_satisfied", 3)]
WEIGHTS = [3, 5, 40, 52]
CHUNK = 50_000


def generate(path: Path, answers: int, visits: int, months: int) -> None:
    storage = Storage.from_url(f"sqlite:///{path}")
    migrations.upgrade(storage)
    with storage.write() as connection:
        town.load_town(connection, TOWN)
        survey = surveys.current(connection)
    storage.close()
    desks = [(d["site"], d["service"]) for d in TOWN["desks"]]
    now = datetime.now(UTC).replace(microsecond=0)
    span = int(timedelta(days=30 * months).total_seconds())
    rng = random.Random(6)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")

    # Town-hall hours: Monday to Friday, 8:30 to 17:30 local time, as the desks are open.
    zone = ZoneInfo("Europe/Paris")
    today = now.astimezone(zone).date()
    weekdays = [
        day
        for day in (today - timedelta(days=offset) for offset in range(1, span // 86_400 + 1))
        if day.weekday() < 5
    ]

    def stamp() -> str:
        day = weekdays[rng.randrange(len(weekdays))]
        opening = datetime(day.year, day.month, day.day, 8, 30, tzinfo=zone)
        moment = opening + timedelta(seconds=rng.randrange(9 * 3600))
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.000000")

    done = 0
    while done < answers:
        batch = min(CHUNK, answers - done)
        records, rows, items = [], [], []
        for _ in range(batch):
            answer_id = str(uuid.UUID(int=rng.getrandbits(128)))
            site, service = desks[rng.randrange(len(desks))]
            choice, level = rng.choices(CHOICES, WEIGHTS)[0]
            at = stamp()
            records.append((answer_id, "answer", "x", "{}", at, 0, at))
            rows.append((answer_id, "kiosk", site, service, survey.id, survey.version,
                         "complete", rng.random() < 0.01, "fr", at, choice, level, 4))  # fmt: skip
            items.append((answer_id, "overall", choice))
            items.append((answer_id, "welcome", rng.choices(CHOICES, WEIGHTS)[0][0]))
        db.executemany(
            "INSERT INTO records (id, kind, payload_hash, payload, device_time, monotonic_ms,"
            " received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            records,
        )
        db.executemany(
            "INSERT INTO answers (id, channel, site, service, survey_id, survey_version, status,"
            " suspect, language, captured_at, main_choice, main_level, main_levels)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        db.executemany("INSERT INTO answer_items VALUES (?, ?, ?)", items)
        db.commit()
        done += batch
    done = 0
    while done < visits:
        batch = min(CHUNK, visits - done)
        rows = []
        for _ in range(batch):
            site, service = desks[rng.randrange(len(desks))]
            wait = rng.expovariate(1 / 420)
            served = rng.random() > 0.05
            outcome = "served" if served else "walked_out"
            visit_id = str(uuid.UUID(int=rng.getrandbits(128)))
            rows.append((visit_id, site, service, stamp(), outcome, wait if served else None))
        db.executemany(
            "INSERT INTO visits (id, site, service, arrived_at, outcome, wait_seconds)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        db.commit()
        done += batch
    db.execute("ANALYZE")
    db.commit()
    db.close()
    storage = Storage.from_url(f"sqlite:///{path}")
    with storage.write() as connection:
        rollups.rebuild(connection, storage.zone)
    storage.close()


def signed_in_client(path: Path) -> TestClient:
    """The real application on the generated file, a quality manager signed in."""
    settings = Settings(database_url=f"sqlite:///{path}", secret_key="bench-" + "x" * 32,
                        environment="development")  # fmt: skip
    storage = Storage.from_url(settings.database_url, settings.timezone)
    with storage.write() as connection:
        users.create(
            connection, username="bench", password="bench-password-123", role="quality_manager"
        )
    client = TestClient(create_app(settings, storage), follow_redirects=False)
    login = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login)
    if token is None:
        raise RuntimeError("no sign-in form")
    data = {"username": "bench", "password": "bench-password-123", "csrf_token": token.group(1)}
    if client.post("/login", data=data).status_code != 303:
        raise RuntimeError("sign-in failed")
    return client


def timed(function: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=2_000_000)
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        start = time.perf_counter()
        generate(path, args.answers, args.visits, args.months)
        print(f"generated {args.answers:,} answers and {args.visits:,} visits "
              f"in {time.perf_counter() - start:.1f} s")  # fmt: skip
        storage = Storage.from_url(f"sqlite:///{path}")
        month = containing("month", date.today()).previous()
        service = TOWN["desks"][0]["service"]
        start_utc, end_utc = month.bounds(ZoneInfo("Europe/Paris"))
        plain = sqlite3.connect(path)

        def baseline() -> None:
            plain.execute(
                "SELECT site, service, main_level, count(*) FROM answers"
                " WHERE captured_at >= ? AND captured_at < ? AND suspect = 0"
                " GROUP BY site, service, main_level",
                (start_utc.strftime("%Y-%m-%d %H:%M:%S"), end_utc.strftime("%Y-%m-%d %H:%M:%S")),
            ).fetchall()

        rules = Rules(min_answers=5, default_target=90)
        one = Scope.of(services=[service])

        def overview() -> None:  # as `/` asks: its cards show no previous wait
            pipeline.compute(storage, IndicatorQuery(month, Scope(), rules, CARDS))

        def service_page() -> None:
            pipeline.compute(storage, IndicatorQuery(month, one, rules, EVERY))
            pipeline.compute_months(storage, IndicatorQuery(month, one, rules, SATISFACTION), 12)

        def api_year() -> None:
            pipeline.compute_months(storage, IndicatorQuery(month, one, rules, EVERY), 12)

        client = signed_in_client(path)

        def page(url: str) -> Callable[[], None]:
            def get() -> None:
                response = client.get(url)
                if response.status_code != 200:
                    raise RuntimeError(f"{url}: {response.status_code}")

            return get

        base = timed(baseline, args.repeat)
        print(f"baseline GROUP BY (one month)   {base * 1000:8.1f} ms")

        def report(name: str, spent: float) -> None:
            verdict = "ok" if spent < 0.3 else "OVER the 300 ms target"
            print(f"{name:31s} {spent * 1000:8.1f} ms  ×{spent / base:6.1f} baseline  {verdict}")

        report("overview computation", timed(overview, args.repeat))
        report("service computation", timed(service_page, args.repeat))
        spent = timed(api_year, args.repeat)
        print(f"{'12 months with waits (API)':31s} {spent * 1000:8.1f} ms  (information)")
        other = TOWN["desks"][1]["service"]
        pages = (
            # The first request of the process also pays its one-off start: templates compiled,
            # catalogues read. The next service is a first view in a warm process.
            ("GET / first", f"/?kind=month&period={month.key}", 1, True),
            ("GET / again", f"/?kind=month&period={month.key}", args.repeat, False),
            (f"GET /service/{service} first", f"/service/{service}?period={month.key}", 1, True),
            (f"GET /service/{other} first", f"/service/{other}?period={month.key}", 1, False),
            (
                f"GET /service/{other} again",
                f"/service/{other}?period={month.key}",
                args.repeat,
                False,
            ),
        )
        for name, url, repeat, process_start in pages:
            spent = timed(page(url), repeat)
            if process_start:
                note = "(first of its kind since the process started: information)"
                print(f"{'page ' + name:31s} {spent * 1000:8.1f} ms  {note}")
            else:
                report(f"page {name}", spent)
        client.close()
        storage.close()


if __name__ == "__main__":
    main()
