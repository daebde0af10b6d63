"""The PDF reports and the first pages after a start, on the demo town, previous design against
current, in the same run.

    .venv/bin/python bench/reports.py [--repeat 3] [--skip-cold]

Builds the demo database (`sync-server demo`'s `prepare`: three months of a town's answers and
visits) in a temp folder, then measures, best of `--repeat`:

- monthly pack and annual review of the current year, previous design: the single template of
  before (`report.html` as of the commit that replaced it, read from git) with its context (every
  desk's tables, the distribution, heatmap and band charts), laid out in-process;
- the same two, current design: GET /reports/monthly.pdf and /reports/annual.pdf from the real
  app (a signed-in quality manager; layout in the app's worker processes, the pack in two parts
  at once), the share of the time spent before the layout (figures and HTML), and the pack's
  HTML laid out whole by one worker (the layout before the pack was cut in parts);
- the overview (GET /) alone, then while a monthly pack is being built: in-process as before,
  and with the worker process;
- the first GET /service/{service} and GET / in a fresh interpreter, without the start-up
  warm-up (what the previous design did) and with it (the app's lifespan run, warm-ups done,
  the PDF worker's included).

Prints each figure, the page counts and the ratios previous / current.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from sync_server.app import create_app  # noqa: E402
from sync_server.demo.command import prepare  # noqa: E402
from sync_server.settings import Settings  # noqa: E402
from sync_server.storage import Storage, User, town  # noqa: E402
from tests.fixtures.server import log_in_client  # noqa: E402

SERVICE = "iris"
OLD_TEMPLATE = "sync_server/templates/report.html"


def best(function: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def best_alternating(functions: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """`best` of each function, called in turn: a load that changes during the run (other
    processes on the machine) weighs on each alike."""
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeat):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return {name: min(spent) for name, spent in times.items()}


def pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def old_template() -> str | None:
    """`report.html` as it was before the reports were redesigned (None outside a git clone)."""
    try:
        removed = subprocess.run(
            ["git", "rev-list", "-1", "HEAD", "--", OLD_TEMPLATE],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        return subprocess.run(
            ["git", "show", f"{removed}^:{OLD_TEMPLATE}"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None


def old_build(storage: Storage, settings: Settings, mode: str, period: Any, source: str) -> bytes:
    """The previous design: every desk's full tables and charts, laid out here."""
    from weasyprint import HTML

    from sync_server.web import labels
    from sync_server.web.figures import desk_figures
    from sync_server.web.pages.review import indicator_name, review_data
    from sync_server.web.pages.service_page import distribution, wait_sections
    from sync_server.web.period_choice import period_label
    from sync_server.web.templating import environment

    user = User("bench", "quality_manager")
    if mode == "annual":
        data = review_data(storage, settings, user, period)
        rows, misses = data["rows"], data["misses"]
    else:
        rows, misses = desk_figures(storage, settings, period, services=None), []
    with storage.read() as connection:
        town_name = town.town_name(connection) or ""
    sections = wait_sections(rows, "fr", settings.min_answers)
    context = {
        "mode": mode,
        "title_period": period_label(period, "fr"),
        "rows": rows,
        "distributions": {(r.site, r.service): distribution(r, "fr") for r in rows},
        "waits": {(item["desk"].site, item["desk"].service): item for item in sections},
        "misses": misses,
        "indicator_name": indicator_name,
        "labels": labels,
        "town": town_name,
        "min_answers": settings.min_answers,
    }
    html = environment("fr").from_string(source).render(**context)
    return HTML(string=html).write_pdf()


def cold(database_url: str, warm: bool) -> dict[str, float]:
    """First service page and overview in a fresh interpreter (see `--cold`)."""
    command = [sys.executable, __file__, "--cold", database_url] + (["--warm"] if warm else [])
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def cold_run(database_url: str, warm: bool) -> None:
    settings = Settings(database_url=database_url, secret_key="bench-" + "x" * 32,
                        environment="development")  # fmt: skip
    storage = Storage.from_url(settings.database_url, settings.timezone)
    app = create_app(settings, storage)
    client = TestClient(app)
    log_in_client(client, "bench")
    started = time.perf_counter()
    if warm:
        client.__enter__()  # runs the lifespan: the warm-ups start
        app.state.warmed.wait()
        app.state.pdf_warmed.result()  # the PDF worker's, which would compete for the CPU
    warm_up = time.perf_counter() - started
    found = {"warm_up": warm_up if warm else 0.0}
    for name, path in (("service", f"/service/{SERVICE}"), ("overview", "/")):
        start = time.perf_counter()
        assert client.get(path).status_code == 200
        found[name] = time.perf_counter() - start
    print(json.dumps(found))
    if warm:
        client.__exit__(None, None, None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-cold", action="store_true")
    parser.add_argument("--cold", metavar="DATABASE_URL")
    parser.add_argument("--warm", action="store_true")
    args = parser.parse_args()
    if args.cold:
        cold_run(args.cold, args.warm)
        return

    from sync_server.indicators.periods import parse
    from sync_server.pdf_layout import html_to_pdf
    from sync_server.web.figures import today
    from sync_server.web.pages.reports import monthly_html
    from sync_server.web.period_choice import choose

    folder = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    start = time.perf_counter()
    settings = Settings(secret_key="bench-" + "x" * 32, environment="development")
    setup = prepare(folder, settings)
    print(f"demo database: {setup.answers} answers, {setup.visit_events} visit events "
          f"({time.perf_counter() - start:.1f} s)")  # fmt: skip
    storage, settings = setup.storage, setup.settings
    month = choose("month", None, today(settings), "fr").period
    year = parse("year", str(today(settings).year))
    app = create_app(settings, storage)
    results: dict[str, float] = {}
    started = time.perf_counter()
    with TestClient(app) as client:
        log_in_client(client, "bench")
        app.state.warmed.wait()
        # The worker started with the app (`pdf_warm_up`): wait for it, as a person reading the
        # overview before asking for the pack would.
        app.state.pdf_warmed.result()
        print(f"PDF worker started and warmed in the background: "
              f"{time.perf_counter() - started:.2f} s after the start")  # fmt: skip
        monthly_url = f"/reports/monthly.pdf?period={month.key}"
        annual_url = f"/reports/annual.pdf?year={year.start.year}"
        first = time.perf_counter()
        client.get(monthly_url)
        print(f"first PDF (worker warmed): {time.perf_counter() - first:.2f} s")
        new = {"monthly": client.get(monthly_url).content, "annual": client.get(annual_url).content}
        results["annual new"] = best(lambda: client.get(annual_url), args.repeat)
        user = User("bench", "quality_manager")
        results["monthly new, figures and HTML"] = best(
            lambda: monthly_html(storage, settings, user, month, "fr"), args.repeat
        )
        # The pack as served (in parts, at once), and its HTML laid out whole by one worker.
        html = monthly_html(storage, settings, user, month, "fr")
        pool = app.state.pdf_pool.executor()
        results |= best_alternating(
            {
                "monthly new": lambda: client.get(monthly_url),
                "monthly new, laid out whole by one worker": lambda: pool.submit(
                    html_to_pdf, html
                ).result(),
            },
            args.repeat,
        )
        source = old_template()
        if source is not None:
            old = {mode: old_build(storage, settings, mode, period, source)
                   for mode, period in (("monthly", month), ("annual", year))}  # fmt: skip
            for mode, period in (("monthly", month), ("annual", year)):
                results[f"{mode} previous"] = best(
                    lambda m=mode, p=period: old_build(storage, settings, m, p, source),
                    args.repeat,
                )
            print("pages, previous → current: " + ", ".join(
                f"{mode} {pages(old[mode])} → {pages(new[mode])}" for mode in new))  # fmt: skip
        else:
            print("pages: " + ", ".join(f"{mode} {pages(new[mode])}" for mode in new))

        results["overview alone"] = best(lambda: client.get("/"), args.repeat)

        def overview_during(build: Callable[[], object]) -> float:
            worker = threading.Thread(target=build)
            worker.start()
            time.sleep(0.3)  # the build under way (a benchmark, not a test: waiting is fine)
            spent = best(lambda: client.get("/"), 1)
            worker.join()
            return spent

        if source is not None:
            results["overview during previous build"] = overview_during(
                lambda: old_build(storage, settings, "monthly", month, source)
            )
        results["overview during current build"] = overview_during(lambda: client.get(monthly_url))
    if not args.skip_cold:
        for warm, name in ((False, "without warm-up"), (True, "with warm-up")):
            found = cold(settings.database_url, warm)
            results[f"first service page {name}"] = found["service"]
            results[f"first overview {name}"] = found["overview"]
            if warm:
                results["warm-up at start (background)"] = found["warm_up"]
    storage.close()
    for name, spent in results.items():
        print(f"{name:45s} {spent * 1000:9.0f} ms")
    print(f"monthly new: {pages(new['monthly']) / results['monthly new']:.1f} pages per second")
    pairs = [
        ("monthly previous", "monthly new"),
        ("monthly new, laid out whole by one worker", "monthly new"),
        ("annual previous", "annual new"),
        ("overview during previous build", "overview during current build"),
        ("first service page without warm-up", "first service page with warm-up"),
        ("first overview without warm-up", "first overview with warm-up"),
    ]
    for before, after in pairs:
        if before in results and after in results:
            print(f"{before} / {after}: {results[before] / results[after]:.1f}×")


if __name__ == "__main__":
    main()
