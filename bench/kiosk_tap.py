"""Tap-to-durable-commit latency of the kiosk, and its resident memory over a run.

    .venv/bin/python bench/kiosk_tap.py [--answers 1000] [--dir /path/on/the/kiosk/disk]

Each answer goes through the real `VisitorSession` on a real `KioskStore` file: `tap_main`
(the screen may move on when it returns: the main answer is committed, fsynced) then `finish`
(the response sealed into the outbox). The baseline, measured in the same run and interleaved
with the answers, is one bare `sqlite3` INSERT + COMMIT on a file in the same folder with the
same durability settings (WAL, synchronous=FULL). Resident memory is read after every 100
answers. The targets: p99 of the tap under 15 ms, memory flat.
"""

from __future__ import annotations

import argparse
import gc
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.core.clock import SystemClock  # noqa: E402
from kiosk.core.store import KioskStore  # noqa: E402
from kiosk.core.visitor import DeskConfig, VisitorSession  # noqa: E402
from qualivilles.bundled import load_default_survey  # noqa: E402

CHOICES = ("very_dissatisfied", "dissatisfied", "satisfied", "very_satisfied")
WARM_UP = 20


def rss_mib() -> float:
    """Resident set size of this process, from /proc (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def bare_sqlite(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS answers (id INTEGER PRIMARY KEY, payload TEXT)")
    return conn


def bare_insert(conn: sqlite3.Connection, n: int) -> float:
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO answers (payload) VALUES (?)", (f'{{"overall": "{CHOICES[n % 4]}"}}',)
    )
    conn.execute("COMMIT")
    return (time.perf_counter() - start) * 1000


def run(answers: int, folder: Path) -> dict[str, object]:
    clock = SystemClock()
    desk = DeskConfig(survey=load_default_survey())
    tap_ms: list[float] = []
    finish_ms: list[float] = []
    base_ms: list[float] = []
    memory: list[tuple[int, float, int]] = []  # (answers, RSS MiB, live Python objects)
    with KioskStore(folder / "kiosk.db", clock) as store:
        conn = bare_sqlite(folder / "baseline.db")
        session = VisitorSession(store, clock, desk)
        cache_kib = -store.db.execute("PRAGMA cache_size").fetchone()[0]
        memory.append((0, rss_mib(), len(gc.get_objects())))
        for n in range(-WARM_UP, answers):
            base = bare_insert(conn, n)
            start = time.perf_counter()
            session.tap_main(CHOICES[n % 4], "fr")
            tapped = time.perf_counter()
            session.finish()
            done = time.perf_counter()
            if n < 0:
                continue
            base_ms.append(base)
            tap_ms.append((tapped - start) * 1000)
            finish_ms.append((done - tapped) * 1000)
            if (n + 1) % 100 == 0:
                memory.append((n + 1, rss_mib(), len(gc.get_objects())))
        backlog = store.backlog()
        conn.close()
    return {
        "tap": tap_ms,
        "finish": finish_ms,
        "base": base_ms,
        "memory": memory,
        "backlog": backlog,
        "cache_kib": cache_kib,
    }


def report(result: dict[str, object], answers: int, folder: Path) -> None:
    tap, finish, base = result["tap"], result["finish"], result["base"]
    memory = result["memory"]

    def line(name: str, samples: list[float]) -> tuple[float, float]:
        p50, p99 = statistics.median(samples), percentile(samples, 0.99)
        print(f"  {name:<34} median {p50:7.2f} ms   p99 {p99:7.2f} ms   max {max(samples):7.2f} ms")
        return p50, p99

    print(f"kiosk tap benchmark: {answers} answers, files in {folder}")
    print(f"  Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}")
    print("latency (wall time, per answer)")
    b50, b99 = line("baseline: bare INSERT+COMMIT", base)
    t50, t99 = line("tap_main (main answer durable)", tap)
    f50, f99 = line("finish (sealed into the outbox)", finish)
    total = [a + b for a, b in zip(tap, finish, strict=True)]
    line("tap_main + finish", total)
    print("ratios against the baseline")
    print(f"  tap_main: median x{t50 / b50:.2f}, p99 x{t99 / b99:.2f}")
    print(f"  finish:   median x{f50 / b50:.2f}, p99 x{f99 / b99:.2f}")
    print(f"  target: tap p99 < 15 ms -> {'met' if t99 < 15 else 'NOT met'} ({t99:.2f} ms)")
    print("resident memory (MiB) and live Python objects after each 100 answers")
    print("  " + "  ".join(f"{count}:{mib:.1f}" for count, mib, _ in memory))
    first = next(m for m in memory if m[0] >= 100)
    last = memory[-1]
    print(
        f"  RSS growth from {first[0]} to {last[0]} answers: {last[1] - first[1]:+.2f} MiB;"
        f" Python objects {first[2]} -> {last[2]} ({last[2] - first[2]:+d})"
    )
    print(
        f"  (each SQLite connection may cache up to {result['cache_kib']} KiB of pages as the"
        " files grow: two connections here)"
    )
    print(f"  outbox backlog at the end: {result['backlog']} records")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1000)
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="folder for the two SQLite files (default: a temporary folder)",
    )
    args = parser.parse_args(argv)
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
        report(run(args.answers, args.dir), args.answers, args.dir)
        return 0
    with tempfile.TemporaryDirectory(dir=ROOT) as tmp:  # on the project's disk, not a tmpfs
        report(run(args.answers, Path(tmp)), args.answers, Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
