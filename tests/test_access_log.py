"""What `sync-server serve` writes to its access log: no client address, no query string (the
phone survey's signed state), no per-visit token."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import threading

import requests

from sync_server.access_log import NoPersonalData, redacted


def test_paths_lose_their_query_and_tokens():
    assert redacted("/s/centre/iris?st=abc.def&lang=fr") == "/s/centre/iris"
    assert redacted("/v/eyJ2Ijoi.c2lnbmF0dXJl") == "/v/…"
    assert redacted("/api/v1/sync") == "/api/v1/sync"


def test_the_served_access_log_names_no_visitor(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "QV_DATABASE_URL": f"sqlite:///{tmp_path / 'server.db'}",
        "QV_SECRET_KEY": secrets.token_urlsafe(48),
        "QV_ENVIRONMENT": "production",
    }
    migrate = [sys.executable, "-m", "sync_server.cli", "migrate"]
    subprocess.run(migrate, env=env, check=True, capture_output=True)
    command = [sys.executable, "-m", "sync_server.cli", "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(line.decode() for line in server.stdout), daemon=True
    )
    reader.start()
    base = f"http://127.0.0.1:{port}"
    try:
        ready = threading.Event()
        for _ in range(200):  # the server starts: migrations, then the socket
            try:
                requests.get(f"{base}/login", timeout=2)
                break
            except requests.ConnectionError:
                ready.wait(0.1)
        requests.get(f"{base}/s/centre-administratif/iris?st=SIGNED-STATE-1234", timeout=5)
        requests.get(f"{base}/v/VISIT-TOKEN-5678", timeout=5)
    finally:
        server.terminate()
        server.wait(20)
        reader.join(10)
    access = [line for line in lines if '"GET ' in line]
    assert any("/s/centre-administratif/iris" in line for line in access), lines
    written = "".join(lines)
    assert "SIGNED-STATE-1234" not in written
    assert "VISIT-TOKEN-5678" not in written
    assert "127.0.0.1:" not in "".join(access)


def test_records_other_than_access_lines_are_left_alone():
    import logging

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "started %s", ("ok",), None)
    assert NoPersonalData().filter(record)
    assert record.getMessage() == "started ok"
