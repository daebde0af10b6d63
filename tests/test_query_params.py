"""No query parameter makes a page, an export or the API fail: out-of-range months, huge
numbers, NUL, invalid UTF-8 and path tricks get a page, a clear 4xx problem, or are ignored."""

from __future__ import annotations

import pytest

from tests.fixtures.server import SERVICE, SITE, log_in_client

PATHS = [
    "/", f"/service/{SERVICE}", "/comments", "/fleet", "/targets", "/review", "/codes",
    "/export/answers.csv", "/export/visits.csv", "/admin/users", "/admin/users/edit",
    "/admin/surveys", "/admin/surveys/qualivilles-accueil/1", f"/s/{SITE}/{SERVICE}",
    f"/s/{SITE}/{SERVICE}/merci", "/login", "/api/v1/indicators", "/api/v1/health",
    "/account/tokens", "/audit", "/audit.csv", "/comments/export.csv", "/comments/export.xlsx",
]  # fmt: skip
NAMES = ["from", "to", "period", "service", "site", "lang", "user", "st", "v", "kind", "person",
         "page", "status", "category", "overdue", "show", "r"]  # fmt: skip
VALUES = [
    "0000-01", "9999-12", "2026-13", "99999999999999999999", "%ED%A0%80", "%00", "x" * 3000,
    "2026-02-30", "../../etc/passwd", "9999-12-31", "0001-01-01",
]  # fmt: skip


@pytest.mark.parametrize("path", PATHS)
def test_no_query_parameter_makes_a_read_fail(app_client, path):
    # Each page as the role that sees it: the administrator's pages, the quality manager's.
    role = "admin" if path.startswith(("/admin", "/fleet", "/codes")) else "quality_manager"
    log_in_client(app_client, f"u-{role}", role)
    failures = []
    for name in NAMES:
        for value in VALUES:
            response = app_client.get(f"{path}?{name}={value}")
            if response.status_code >= 500:
                failures.append((name, value[:20], response.status_code))
            elif path.startswith("/api/") and response.status_code >= 400:
                assert response.headers["content-type"].startswith("application/problem+json")
    assert failures == []
