"""What the first page after a start would otherwise pay for, done in the background at start-up.

The first chart matplotlib draws in a process loads its fonts and builds its first axes (about a
second); the first page of each template compiles it; the first page in a language builds its
catalogue. Done once per process on a daemon thread, so the quality manager's first service page
costs what every later one does. The drawings are of made-up numbers: nothing stored is read.
"""

from __future__ import annotations

import threading

from sync_server import i18n
from sync_server.web import charts
from sync_server.web.templating import environment

# The pages a quality manager opens first, compiled ahead.
TEMPLATES = ("dashboard.html", "service.html", "register.html", "review.html", "login.html")

_started = threading.Lock()
_done = threading.Event()


def warm() -> None:
    """Load the catalogues, compile the first pages' templates and draw one chart of each kind."""
    for language in i18n.LANGUAGES:
        env = environment(language)
        for name in TEMPLATES:
            env.get_template(name)
    months = [f"{m:02d}/00" for m in range(1, 13)]
    values = [90.0 + (m % 3) for m in range(12)]
    charts.trend_chart(months, values, [90.0] * 12, title="", description="", target_label="t")
    charts.distribution_chart(["q"], ["a", "b", "c", "d", "e"], [[10, 20, 30, 30, 10]],
                              title="", description="")  # fmt: skip
    charts.heatmap_chart(["mon"], ["9 h", "10 h"], [[2.0, None]], [["2.0\n(3)", "(1)"]],
                         title="", description="", scale_label="")  # fmt: skip
    charts.band_chart(["a", "b"], [80.0, None], ["80", "—"], ["N = 5", "N = 1"], 90.0,
                      title="", description="", target_label="t")  # fmt: skip
    charts.pareto_chart(["a", "b"], [3, 1], [75.0, 100.0], ["3", "1"], title="", description="",
                        cumulative_label="c")  # fmt: skip


def start() -> threading.Event:
    """Start warming on a daemon thread, once per process; the event is set when it is done."""
    if _started.acquire(blocking=False):
        threading.Thread(target=_run, name="warm-up", daemon=True).start()
    return _done


def _run() -> None:
    try:
        warm()
    finally:
        _done.set()
