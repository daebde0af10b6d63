"""Running several server processes on one database: `sync-server migrate` as its own step (two
at once leave one schema), `serve` refusing a database that needs migrating, `serve --workers 2`
on PostgreSQL answering the load balancer's probes, and the app factory uvicorn's --factory
calls."""

from __future__ import annotations

import io
import os
import secrets
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from sync_server import cli
from sync_server.app import app_from_environment, create_app
from sync_server.storage import Storage, migrations, schema
from tests.fixtures.server import server_settings_for

CLI = [sys.executable, "-m", "sync_server.cli"]
WAIT = 60  # seconds for what must happen much sooner


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(database_url: str, **more: str) -> dict[str, str]:
    return {
        **os.environ,
        "QV_DATABASE_URL": database_url,
        "QV_SECRET_KEY": secrets.token_urlsafe(48),
        "QV_ENVIRONMENT": "production",
        "QV_PURGE_DAILY": "false",
        **more,
    }


def one_migration_short(url: str) -> None:
    """A database as the previous version of the server left it."""
    storage = Storage.from_url(url)
    migrations.migrate(storage.engine, migrations.MIGRATIONS[:-1])
    storage.close()


def test_two_migrations_at_once_leave_one_schema(storage_url):
    runs = [
        subprocess.Popen(
            [*CLI, "migrate"],
            env=environment(storage_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    applied, up_to_date = sorted(out for out, _ in outputs)
    assert applied.startswith("applied: 0001_initial")
    assert up_to_date == "database already up to date\n"
    engine = sa.create_engine(storage_url)
    with engine.connect() as connection:
        names = list(connection.scalars(sa.select(schema.schema_migrations.c.name)))
    engine.dispose()
    assert sorted(names) == sorted(name for name, _ in migrations.MIGRATIONS)


def test_serve_refuses_a_database_that_needs_migrating(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    one_migration_short(url)
    monkeypatch.setenv("QV_ENVIRONMENT", "development")
    out = io.StringIO()
    assert cli.main(["--database-url", url, "serve", "--port", "1"], out=out) == 1
    assert out.getvalue() == ""
    error = capsys.readouterr().err
    assert "needs migrating" in error
    assert "`sync-server migrate`" in error
    assert migrations.MIGRATIONS[-1][0] in error
    # The factory refuses it the same way, and migrating once is enough.
    monkeypatch.setenv("QV_DATABASE_URL", url)
    with pytest.raises(migrations.SchemaOutOfDate, match="sync-server migrate"):
        app_from_environment()
    assert cli.main(["--database-url", url, "migrate"], out=io.StringIO()) == 0
    app = app_from_environment()
    app.state.storage.close()


def test_the_probes_say_live_and_ready_and_nothing_else(tmp_path, server_storage):
    settings = server_settings_for(tmp_path)
    client = TestClient(create_app(settings, server_storage))
    live = client.get("/health/live")
    assert (live.status_code, live.json()) == (200, {"status": "live"})
    ready = client.get("/health/ready")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert "set-cookie" not in ready.headers


def test_not_ready_on_an_old_schema_or_no_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    one_migration_short(url)
    old = Storage.from_url(url)
    client = TestClient(create_app(server_settings_for(tmp_path), old))
    answer = client.get("/health/ready")
    assert (answer.status_code, answer.json()) == (503, {"status": "not ready"})
    assert client.get("/health/live").status_code == 200
    old.close()
    gone = Storage.from_url(f"sqlite:///{tmp_path / 'missing' / 'nowhere.db'}")
    client = TestClient(create_app(server_settings_for(tmp_path), gone))
    assert client.get("/health/ready").status_code == 503
    gone.close()


def test_serve_with_two_workers_on_postgresql_answers_ready(postgres_url, tmp_path: Path):
    env = environment(postgres_url, QV_DB_POOL_SIZE="2")
    subprocess.run([*CLI, "migrate"], env=env, check=True, capture_output=True, timeout=300)
    port = free_port()
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(server.stderr), daemon=True)
    reader.start()
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        waiting = threading.Event()
        answer = None
        for _ in range(WAIT * 10):
            assert server.poll() is None, "".join(lines)
            try:
                answer = client.get("/health/ready")
                break
            except httpx.TransportError:
                waiting.wait(0.1)
        assert answer is not None, "".join(lines)
        assert (answer.status_code, answer.json()) == (200, {"status": "ready"})
        # Two worker processes answer, under uvicorn's one supervisor.
        for _ in range(WAIT * 10):
            if sum("Started server process" in line for line in lines) >= 2:
                break
            waiting.wait(0.1)
        started = [line for line in lines if "Started server process" in line]
        assert len(started) == 2, "".join(lines)
    finally:
        client.close()
        server.terminate()
        server.wait(WAIT)
        reader.join(10)
