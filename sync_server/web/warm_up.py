"""What the first page after a start would otherwise pay for, done in the background at start-up.

The first page of each template compiles it; the first page in a language builds its catalogue;
the first working-day deadline loads the public holidays (the `holidays` package imports every
country it knows: about a second). Done once per process on a daemon thread, so the quality
manager's first service page costs what every later one does. Nothing stored is read.
"""

from __future__ import annotations

import threading
from datetime import date

from sync_server import i18n
from sync_server.indicators import public_holidays
from sync_server.web.templating import environment

# The pages a quality manager opens first, compiled ahead.
TEMPLATES = ("dashboard.html", "service.html", "register.html", "review.html", "login.html")

_started = threading.Lock()
_done = threading.Event()


def warm() -> None:
    """Load the catalogues, compile the first pages' templates and the public holidays."""
    for language in i18n.LANGUAGES:
        env = environment(language)
        # A page's layout and the macros it imports are compiled when it is first rendered,
        # not with it: compiled here too.
        shared = [n for n in env.list_templates(".html") if n.startswith("_") or "layout" in n]
        for name in [*TEMPLATES, *shared]:
            env.get_template(name)
    public_holidays.calendar(public_holidays.DEFAULT_REGION).in_year(date.today().year)


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
