"""Taps are recorded while the sync thread is stuck on a server that never answers."""

from __future__ import annotations

import socket
import threading

import pytest

from kiosk.core.device_state import Credentials
from kiosk.runtime import open_kiosk
from tests.fixtures.kiosk import tap

pytestmark = pytest.mark.gui


class SilentServer:
    """Accepts connections on loopback, reads nothing back, answers nothing until released."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connected = threading.Event()
        self.released = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        connection, _ = self.sock.accept()
        self.connected.set()
        self.released.wait(30)
        connection.close()  # the client sees a dropped connection

    def close(self) -> None:
        self.released.set()
        self.sock.close()


@pytest.fixture
def silent_server():
    server = SilentServer()
    yield server
    server.close()


def test_taps_are_durable_while_the_upload_hangs(tmp_path, silent_server, run_app):
    from kiosk.app import KioskApp

    runtime = open_kiosk(tmp_path / "kiosk", sync_interval=3600)
    runtime.store.save_credentials(
        Credentials(server_url=silent_server.url, device_id="d1", token="t", site="s", service="v")
    )
    reports = []
    runtime.reports.listeners.append(reports.append)
    app = run_app(KioskApp(runtime.session, worker=runtime.worker))
    assert silent_server.connected.wait(10), "the worker never tried to sync"

    for choice in ("very_satisfied", "dissatisfied", "satisfied"):
        smiley = next(w for w in app.attract.ids.smileys.children if w.choice_id == choice)
        tap(smiley)
        tap(app.question.ids.finish)
        assert app.manager.current == "thanks"
        app.back_to_attract()

    assert reports == []  # the worker's first pass is still stuck in its request
    assert runtime.store.backlog() == 3  # sealed and queued while the upload was still hanging
    statuses = [row["status"] for row in runtime.store.db.query("select status from responses")]
    assert statuses == ["complete"] * 3
    silent_server.close()
    runtime.close()
