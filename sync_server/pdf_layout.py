"""What the PDF worker processes run: HTML to PDF with WeasyPrint, a long report's parts and their
joining (`pdf_join.py`), and the warm-up each worker does when it starts.

Kept outside `web/` so that a worker, a fresh interpreter, imports WeasyPrint and these modules
only, not the server's pages and their libraries (see `web/pdf_pool.py`).
"""

from __future__ import annotations

import os
from typing import Any

from sync_server.pdf_html import report_html
from sync_server.pdf_join import join, part_to_pdf
from sync_server.pdf_parts import PART_BREAK, head, split

# The reports' own fonts and styles (`_report_base.html`), a table with its borders, a chart, in
# two parts joined: laid out once, every library and font a report needs is loaded.
_SAMPLE = (
    '<html lang="fr"><head><title>Qualivilles</title><style>@page { size: A4;'
    ' @bottom-left { content: "Édité" }'
    ' @bottom-right { content: counter(page) " / " counter(pages) } }'
    'body { font-family: "DejaVu Sans", sans-serif; font-size: 8.5pt }'
    " table { border-collapse: collapse } td { border-bottom: 0.4pt solid #d3d9e2 }"
    " .page { break-before: page }</style></head><body>"
    "<h1>Qualivilles</h1><table><tr><th>É</th><td><b>90,0 %</b> <i>✗ —</i></td>"
    '<td><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 60 16" width="60" height="16">'
    '<polyline points="0,8 30,4 60,6" fill="none" stroke="#0b5cad"/>'
    '<circle cx="60" cy="6" r="1.4" fill="#0b5cad"/></svg></td></tr></table>'
    f'{PART_BREAK}<section class="page"><h2>Accueil</h2><p>« Merci »</p></section></body></html>'
)


def html_to_pdf(html: str) -> bytes:
    """The PDF of a self-contained HTML document (its CSS inline, no external resources)."""
    return report_html(html).write_pdf()


# Added to a worker's scheduling niceness (0 to 19: higher yields more).
WORKER_NICENESS = 5


def start_worker(ready: Any = None) -> None:
    """What a layout worker runs when it starts: it yields the processor to the server's own
    process when both want it (pages answer at their usual speed while a report is laid out),
    then warms up (`warm`)."""
    os.nice(WORKER_NICENESS)
    warm(ready)


def warm(ready: Any = None) -> int:
    """Load WeasyPrint, Pango, pypdf and the reports' fonts by laying out a small report in two
    parts and joining them (each worker runs it when it starts); the PDF's size, also put on the
    `ready` queue when one is given."""
    size = len(join([part_to_pdf(part) for part in split(_SAMPLE, 2)], head(_SAMPLE)))
    if ready is not None:
        ready.put(size)
    return size
