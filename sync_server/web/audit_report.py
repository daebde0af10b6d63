"""The internal audit report as a PDF: the audit, its pair, and its findings engagement by
engagement, laid out by WeasyPrint from `internal_audit_report.html`."""

from __future__ import annotations

from typing import Any

from sync_server.web.templating import environment


def report_html(language: str, context: dict[str, Any]) -> str:
    return environment(language).get_template("internal_audit_report.html").render(**context)


def report_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported on use: it loads Pango, which pages do not need

    # The template's <style> is read here, on the server; its HTML never reaches a browser.
    return HTML(string=html, base_url=None).write_pdf()
