"""With a display, `sync-server demo` opens the kiosk window, which enrols and syncs by itself."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading

import pytest
import requests

from kiosk.core.store import KioskStore

pytestmark = pytest.mark.gui


def test_the_demo_opens_a_kiosk_window_that_enrols_and_fetches_its_survey(tmp_path, xvfb_display):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DISPLAY": xvfb_display}
    env.pop("SDL_VIDEODRIVER", None)  # a real X window this time, not offscreen
    command = [
        sys.executable,
        "-m",
        "sync_server.cli",
        "demo",
        "--data-dir",
        str(tmp_path),
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        banner = []
        for line in process.stdout:
            banner.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        assert any(line.startswith("Kiosk window started") for line in banner), banner
        kiosk_db = tmp_path / "kiosk" / "kiosk.db"
        ticker = threading.Event()
        enrolled = None
        for _ in range(300):  # up to ~30 s for the kiosk to start, enrol and sync once
            if kiosk_db.exists():
                with KioskStore(kiosk_db) as store:
                    cached = store.cached_config()
                    enrolled = store.credentials()
                if enrolled is not None and cached is not None:
                    break
            ticker.wait(0.1)
        assert enrolled is not None, "the kiosk never enrolled"
        assert enrolled.site == "centre-administratif"
        assert cached.config["survey"]["id"] == "qualivilles-accueil"
        assert requests.get(f"http://127.0.0.1:{port}/login", timeout=10).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
