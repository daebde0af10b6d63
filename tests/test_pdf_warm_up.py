"""The PDF worker process starts with the server, in the background, having loaded WeasyPrint and
nothing of the server's pages, and stops with it; turned off, it starts on the first PDF asked."""

from __future__ import annotations

import multiprocessing
import os

from fastapi.testclient import TestClient

from sync_server.app import create_app
from tests.fixtures.server import log_in_client, open_town_storage, server_settings_for
from tests.tools import pool_jobs

MODULES = ["weasyprint", "sync_server.pdf_layout", "sync_server.web", "fastapi", "sqlalchemy"]


def started_app(tmp_path, **settings):
    values = server_settings_for(tmp_path, **settings)
    storage = open_town_storage(values)
    return create_app(values, storage), storage


def signed_in(client: TestClient) -> TestClient:
    log_in_client(client, "qualite")
    return client


def test_the_worker_starts_with_the_server_warmed_and_stops_with_it(tmp_path):
    app, storage = started_app(tmp_path, pdf_warm_up=True)
    before = set(multiprocessing.active_children())
    try:
        with TestClient(app) as client:
            # Started by the start-up alone: no PDF asked yet.
            assert app.state.pdf_warmed.result(timeout=120) > 500  # a small PDF laid out
            pool = app.state.pdf_pool.executor()
            worker = pool.submit(os.getpid).result()
            [process] = [p for p in multiprocessing.active_children() if p not in before]
            assert process.pid == worker != os.getpid()
            # WeasyPrint is loaded; the server's pages and their libraries are not.
            assert pool.submit(pool_jobs.loaded, MODULES).result() == MODULES[:2]
            pdf = signed_in(client).get("/reports/monthly.pdf")
            assert pdf.status_code == 200
            assert pdf.content.startswith(b"%PDF")
            assert pool.submit(os.getpid).result() == worker  # the same worker built it
        # The server stopped: its worker ended with it.
        assert not process.is_alive()
        assert process.exitcode == 0
    finally:
        storage.close()


def test_without_the_warm_up_the_worker_starts_on_the_first_pdf_asked(tmp_path):
    app, storage = started_app(tmp_path, pdf_warm_up=False)
    before = set(multiprocessing.active_children())
    try:
        with TestClient(app) as client:
            assert signed_in(client).get("/").status_code == 200
            assert not hasattr(app.state, "pdf_warmed")
            assert set(multiprocessing.active_children()) == before
            assert client.get("/reports/monthly.pdf").status_code == 200
            [process] = [p for p in multiprocessing.active_children() if p not in before]
        assert not process.is_alive()
    finally:
        storage.close()
