"""Requests per second of the phone survey on the real server, against a bare endpoint.

    .venv/bin/python bench/phone_survey.py [--seconds 4] [--threads 4] [--max-requests 20000]

The script starts the real app under uvicorn (one worker, a child process on a free loopback port,
a temporary SQLite file with the demo town) with one extra route, `GET /bench/hello`, that
returns a fixed text: the baseline, measured in the same run through the same middleware. A small
threaded load generator of its own (requests, keep-alive sessions, one per thread) then drives,
each for a bounded time and count:

- hello:     GET /bench/hello
- page:      GET /s/{site}/{service}  (the main question, rendered and translated)
- follow-up: GET of a follow-up page  (signed state checked, flow rebuilt)
- answer:    POST the main answer, then POST "finish now"  (two requests; the second stores
             the answer through the device ingestion path in a SQLite write transaction)

and prints requests/s, answers/s and each ratio to the baseline. The abuse guard stays in the
path, with limits high enough not to refuse the generator. Nothing leaves the loopback.

On a machine that other work keeps busy the rates move from run to run; the server's own CPU time
per request (read from /proc, Linux only) moves much less, and its ratio to the baseline's is
printed too ("cpu ratio": hello's CPU time per request over the scenario's).
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

SITE, SERVICE = "centre-administratif", "iris"
SURVEY = f"/s/{SITE}/{SERVICE}"
STATE = re.compile(r'name="st" value="([^"]+)"')


def serve(port: int, data_dir: Path) -> None:
    """The child process: the real app plus the baseline route, uvicorn with one worker."""
    import json

    import uvicorn
    from fastapi.responses import PlainTextResponse

    from qualivilles.bundled import DEMO_TOWN_FILE
    from sync_server.app import create_app
    from sync_server.phone.guard import Limits, PhoneGuard
    from sync_server.settings import Settings
    from sync_server.storage import Storage, migrations, town
    from sync_server.web import warm_up

    settings = Settings(
        database_url=f"sqlite:///{data_dir / 'bench.db'}",
        secret_key="bench-secret-key-not-for-production",
        public_base_url=f"http://127.0.0.1:{port}",
    )
    storage = Storage.from_url(settings.database_url)
    migrations.upgrade(storage)
    with storage.write() as connection:
        town.load_town(connection, json.loads(DEMO_TOWN_FILE.read_text("utf-8")))
    app = create_app(settings, storage)
    app.state.phone_guard = PhoneGuard(storage, Limits(max_posts=10**9))

    @app.get("/bench/hello", include_in_schema=False)
    def hello() -> PlainTextResponse:
        return PlainTextResponse("hello")

    # The start-up warm-up (templates, catalogues, holidays) done before the first scenario
    # rather than on a thread that would slow whichever scenario runs first.
    warm_up.start().wait()
    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, log_level="warning",
                access_log=False)  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(base: str, child: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        try:
            if requests.get(f"{base}/bench/hello", timeout=1).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or slow to answer
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def load(
    name: str, threads: int, seconds: float, max_requests: int,
    one: Callable[[requests.Session], int],
) -> tuple[float, int]:  # fmt: skip
    """Run `one` (returns the requests it made) from `threads` threads until the time or the
    request budget is spent; (requests per second, requests made)."""
    lock = threading.Lock()
    done = [0]
    errors: list[BaseException] = []
    stop_at = time.monotonic() + seconds

    def worker() -> None:
        with requests.Session() as session:
            one(session)  # warm the connection before counting
            while time.monotonic() < stop_at:
                try:
                    made = one(session)
                except BaseException as error:  # reported after the run
                    errors.append(error)
                    return
                with lock:
                    done[0] += made
                    if done[0] >= max_requests:
                        return

    pool = [threading.Thread(target=worker, name=f"{name}-{n}") for n in range(threads)]
    start = time.monotonic()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.monotonic() - start
    if errors:
        raise RuntimeError(f"{name}: {errors[0]!r}")
    return done[0] / elapsed, done[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="per scenario")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--max-requests", type=int, default=20_000, help="per scenario")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.data_dir)
        return

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data_dir:
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port), "--data-dir", data_dir],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            wait_until_up(base, child)
            run(base, args, child.pid)
        finally:
            child.terminate()
            child.wait(timeout=30)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process `pid` so far (None where /proc is not there)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(base: str, args: argparse.Namespace, server_pid: int) -> None:
    first = requests.post(
        f"{base}{SURVEY}", data={"q": "overall", "answer": "dissatisfied", "lang": "fr"},
        allow_redirects=False, timeout=10,
    )  # fmt: skip
    follow_up = base + first.headers["location"]

    def hello(session: requests.Session) -> int:
        assert session.get(f"{base}/bench/hello", timeout=10).status_code == 200
        return 1

    def page(session: requests.Session) -> int:
        assert session.get(f"{base}{SURVEY}", timeout=10).status_code == 200
        return 1

    def follow(session: requests.Session) -> int:
        assert session.get(follow_up, timeout=10).status_code == 200
        return 1

    def answer(session: requests.Session) -> int:
        main = session.post(
            f"{base}{SURVEY}", data={"q": "overall", "answer": "satisfied", "lang": "fr"},
            allow_redirects=False, timeout=10,
        )  # fmt: skip
        assert main.status_code == 303, main.status_code
        state = main.headers["location"].split("st=", 1)[1].split("&", 1)[0]
        done = session.post(
            f"{base}{SURVEY}",
            data={"st": requests.utils.unquote(state), "q": "welcome", "lang": "fr",
                  "action": "finish"},
            allow_redirects=False, timeout=10,
        )  # fmt: skip
        assert done.status_code == 303, (done.status_code, done.text[:200])
        assert "/merci" in done.headers["location"]
        return 2

    scenarios = [("hello", hello), ("page", page), ("follow-up", follow),
                 ("answer", answer)]  # fmt: skip
    print(
        f"loopback, uvicorn 1 worker, {args.threads} client threads, {args.seconds:g} s or "
        f"{args.max_requests} requests per scenario, {os.cpu_count()} cores"
    )
    results: dict[str, tuple[float, int]] = {}
    cpu: dict[str, float | None] = {}
    for name, one in scenarios:
        before = cpu_seconds(server_pid)
        results[name] = load(name, args.threads, args.seconds, args.max_requests, one)
        after = cpu_seconds(server_pid)
        spent = None if before is None or after is None else after - before
        cpu[name] = None if spent is None else spent / results[name][1]
    baseline = results["hello"][0]
    hello_cpu = cpu["hello"]
    print(f"{'scenario':<12}{'requests':>10}{'req/s':>10}{'vs hello':>10}"
          f"{'cpu ms/req':>12}{'cpu ratio':>11}")  # fmt: skip
    for name, (rate, count) in results.items():
        line = f"{name:<12}{count:>10}{rate:>10.0f}{rate / baseline:>10.2f}"
        per_request = cpu[name]
        if per_request and hello_cpu:
            line += f"{per_request * 1000:>12.2f}{hello_cpu / per_request:>11.2f}"
        print(line)
    answers_per_second = results["answer"][0] / 2
    print(
        f"stored answers/s: {answers_per_second:.0f} (main answer + finish: 2 requests each; "
        f"{answers_per_second / baseline:.2f} x hello)"
    )


if __name__ == "__main__":
    main()
