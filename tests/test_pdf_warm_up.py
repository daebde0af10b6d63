"""The PDF worker processes start with the server, in the background, having loaded WeasyPrint and
nothing of the server's pages, and stop with it; turned off, they start on the first PDF asked."""

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


def test_the_workers_start_with_the_server_warmed_and_stop_with_it(tmp_path):
    app, storage = started_app(tmp_path, pdf_warm_up=True)
    before = set(multiprocessing.active_children())
    try:
        with TestClient(app) as client:
            # Started by the start-up alone: no PDF asked yet.
            assert app.state.pdf_warmed.result(timeout=120) > 500  # a small PDF laid out
            pool = app.state.pdf_pool.executor()
            processes = [p for p in multiprocessing.active_children() if p not in before]
            workers = {p.pid for p in processes}
            assert len(workers) == app.state.pdf_pool.workers == 2
            assert os.getpid() not in workers
            assert pool.submit(os.getpid).result() in workers
            # WeasyPrint is loaded; the server's pages and their libraries are not.
            assert pool.submit(pool_jobs.loaded, MODULES).result() == MODULES[:2]
            pdf = signed_in(client).get("/reports/monthly.pdf")
            assert pdf.status_code == 200
            assert pdf.content.startswith(b"%PDF")
            # The same workers built it.
            assert {p.pid for p in multiprocessing.active_children() if p not in before} == workers
        # The server stopped: its workers ended with it.
        assert not any(process.is_alive() for process in processes)
        assert [process.exitcode for process in processes] == [0, 0]
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
            processes = [p for p in multiprocessing.active_children() if p not in before]
            assert processes  # an empty town's pack: one part, one worker started
        assert not any(process.is_alive() for process in processes)
    finally:
        storage.close()


def test_the_workers_yield_the_processor_to_the_server():
    from sync_server.pdf_layout import WORKER_NICENESS
    from sync_server.web.pdf_pool import PdfPool

    pool = PdfPool(workers=1)
    try:
        worker_niceness = pool.executor().submit(os.nice, 0).result(timeout=120)
    finally:
        pool.shutdown()
    assert worker_niceness == min(19, os.nice(0) + WORKER_NICENESS)
