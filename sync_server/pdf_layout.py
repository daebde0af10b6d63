"""What the PDF worker process runs: HTML to PDF with WeasyPrint, and the warm-up it does first.

Kept outside `web/` so that a worker, a fresh interpreter, imports WeasyPrint and this module only,
not the server's pages and their libraries (see `web/pdf_pool.py`).
"""

from __future__ import annotations

# The reports' own fonts and styles (`_report_base.html`): laid out once, they are loaded.
_SAMPLE = (
    '<style>@page { size: A4; @bottom-right { content: counter(page) " / " counter(pages) } }'
    'body { font-family: "DejaVu Sans", sans-serif; font-size: 8.5pt }</style>'
    "<h1>Qualivilles</h1><table><tr><th>É</th><td><b>90,0 %</b> <i>✗ —</i></td></tr></table>"
)


def html_to_pdf(html: str) -> bytes:
    """The PDF of a self-contained HTML document (its CSS inline, no external resources)."""
    from weasyprint import HTML  # loaded in the worker only: it brings Pango and its fonts

    return HTML(string=html, base_url=None).write_pdf()


def warm() -> int:
    """Load WeasyPrint, Pango and the reports' fonts by laying out a small page; its size."""
    return len(html_to_pdf(_SAMPLE))
