"""The internal audit report: the audit, its pair, and its findings engagement by engagement, as
the HTML of `internal_audit_report.html` that the app's worker process lays out as a PDF
(`pdf_pool`), like the monthly pack."""

from __future__ import annotations

from typing import Any

from sync_server.web.templating import environment


def report_html(language: str, context: dict[str, Any]) -> str:
    return environment(language).get_template("internal_audit_report.html").render(**context)
