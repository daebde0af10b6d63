"""The reports' user-agent stylesheet is WeasyPrint's without its rules for every element's
pseudo-elements: list items keep their markers, nothing else of WeasyPrint's changes."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from weasyprint import HTML
from weasyprint.html import UA

from sync_server.pdf_html import LIST_MARKER, report_html, reports_ua

UNIVERSAL_PSEUDO = re.compile(r"^::[a-z-]+", re.MULTILINE)


def test_no_rule_of_the_reports_user_agent_sheet_styles_every_elements_pseudo_elements():
    assert len(UNIVERSAL_PSEUDO.findall(UA)) == 6  # WeasyPrint's: a marker, five note parts
    scoped = reports_ua(UA)
    assert UNIVERSAL_PSEUDO.findall(scoped) == []
    assert LIST_MARKER.strip() in scoped
    # Only those rules changed: the others, line by line, are WeasyPrint's.
    kept = [line for line in UA.splitlines() if not UNIVERSAL_PSEUDO.match(line)]
    scoped_marker = LIST_MARKER.strip()
    assert [line for line in scoped.splitlines() if not line.startswith(scoped_marker)] == kept


def text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_list_in_a_report_keeps_its_bullets_and_numbers():
    html = "<ul><li>Accueil</li></ul><ol><li>Attente</li><li>Clarté</li></ol>"
    assert text(report_html(html).write_pdf()) == text(HTML(string=html).write_pdf())
    assert "•" in text(report_html(html).write_pdf())
    assert "2." in text(report_html(html).write_pdf())
