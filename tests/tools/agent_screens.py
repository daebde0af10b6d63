"""Render the agent tablet's screens to PNG at one window size, in a process of its own.

    python -m tests.tools.agent_screens 1280x800 docs/screens

A real store in a temporary folder, a manual clock, and real touches: four visitors waiting
(one past the threshold), one served with its QR code, the ticket of the latest arrival shown
large, the day summary.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.tools.window import open_window, orientation

SHOTS = ("queue", "summary", "qr")


def main(size: str, out_dir: Path) -> list[Path]:
    window = open_window(size)

    from kiosk.agent_app import AgentApp
    from kiosk.core.agent_desk import AgentDesk, VisitReason
    from kiosk.core.clock import ManualClock
    from kiosk.core.device_state import Credentials
    from kiosk.core.store import KioskStore
    from kiosk.core.wait_queue import WaitQueue
    from tests.fixtures.kiosk import pump, screenshot
    from tests.fixtures.settling import settled_tap as tap

    desk = AgentDesk(
        desk_name="IRIS – guichet unique – Centre administratif municipal",
        wait_threshold_minutes=10,
        reasons=(
            VisitReason("passeport", "Passeport / CNI"),
            VisitReason("etat-civil", "Acte d'état civil"),
            VisitReason("inscription", "Inscription scolaire"),
            VisitReason("autre", "Autre demande"),
        ),
        public_base_url="http://127.0.0.1:8000",
    )
    credentials = Credentials(
        server_url="http://127.0.0.1:8000",
        device_id="tablette-iris-1",
        token="t" * 30,
        site="centre-administratif",
        service="iris",
        mode="tablet",
        visit_link_secret="demo-secret-for-screenshots",
    )
    clock = ManualClock(start=datetime(2026, 11, 30, 9, 12, tzinfo=ZoneInfo("Europe/Paris")))
    side = orientation(size)
    written = []
    with tempfile.TemporaryDirectory() as tmp, KioskStore(Path(tmp) / "t.db", clock) as store:
        app = AgentApp(WaitQueue(store, clock), desk=desk, credentials=lambda: credentials)
        root = app.build()
        app.root = root
        window.add_widget(root)
        app.dispatch("on_start")
        pump(3)

        def shot(name: str) -> None:
            assert name in SHOTS, name
            written.append(screenshot(window, out_dir / f"agent-{name}-{side}.png"))

        def chip(label: str):
            return next(w for w in app.queue_screen.ids.reasons.children if w.text == label)

        screen = app.queue_screen
        for label, minutes in (
            ("Passeport / CNI", 9),
            (None, 4),
            ("Acte d'état civil", 3),
            ("Inscription scolaire", 1.5),
            (None, 0.5),
        ):
            tap(screen.ids.arrived)
            if label:
                tap(chip(label))  # the reason the visitor gives once arrived
            clock.advance(minutes * 60)
        first = app.queue.waiting()[0]
        tap(screen.rows[app.queue.waiting()[1].id].ids.take)  # served: its QR is offered
        clock.advance(3)
        app.tick()
        assert screen.rows[first.id].over_threshold
        shot("queue")
        tap(screen.ids.last_qr)
        shot("qr")
        tap(app.qr_screen.ids.back)
        tap(screen.rows[first.id].ids.take)
        tap(screen.rows[app.queue.waiting()[0].id].ids.walk_out)
        tap(screen.ids.summary)
        shot("summary")
        app.dispatch("on_stop")
    return written


if __name__ == "__main__":
    for path in main(sys.argv[1], Path(sys.argv[2])):
        print(path)
