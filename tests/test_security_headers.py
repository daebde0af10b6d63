"""Security headers on every kind of response of the real app, in-process: a strict
Content-Security-Policy without inline code, no framing, no MIME sniffing, no referrer, no
powerful features, a separate browsing context group, and HSTS only over HTTPS. The charts the
pages embed need neither inline CSS nor `data:` images, which the policy would block."""

from __future__ import annotations

import re
import secrets
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sync_server.app import create_app
from sync_server.settings import Settings
from sync_server.storage import Storage
from sync_server.web import charts
from sync_server.web.security_headers import inline_script_hashes
from tests.fixtures.server import (
    SERVICE,
    SITE,
    log_in_client,
    open_town_storage,
    server_settings_for,
)

HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}
DENIED = ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()")
# (what, signed in with the role, method, path, expected status, expected content type)
RESPONSES = [
    ("dashboard page", "quality_manager", "GET", "/", 200, "text/html"),
    ("service page with charts", "quality_manager", "GET", f"/service/{SERVICE}", 200, "text/html"),
    ("admin page", "admin", "GET", "/admin/users", 200, "text/html"),
    ("login page", None, "GET", "/login", 200, "text/html"),
    ("redirect to sign in", None, "GET", "/", 303, None),
    ("refused page", "service_manager", "GET", "/admin/users", 403, "text/html"),
    ("phone survey page", None, "GET", f"/s/{SITE}/{SERVICE}", 200, "text/html"),
    ("API JSON", "quality_manager", "GET", "/api/v1/health", 200, "application/json"),
    ("problem+json error", None, "GET", "/api/v1/config", 401, "application/problem+json"),
    ("not found", None, "GET", "/nowhere", 404, "application/problem+json"),
    ("body too large", None, "POST", "/api/v1/sync", 413, "application/problem+json"),
    ("static CSS", None, "GET", "/static/app.css", 200, "text/css"),
    ("PDF report", "quality_manager", "GET", "/reports/monthly.pdf", 200, "application/pdf"),
    ("CSV export", "quality_manager", "GET", "/export/answers.csv", 200, "text/csv"),
]


@pytest.fixture
def app_parts(tmp_path: Path) -> Iterator[tuple[Settings, Storage]]:
    settings = server_settings_for(tmp_path, public_base_url="http://testserver")
    storage = open_town_storage(settings)
    yield settings, storage
    storage.close()


def client(app_parts: tuple[Settings, Storage], base_url: str = "http://testserver") -> TestClient:
    return TestClient(create_app(*app_parts), base_url=base_url, follow_redirects=False)


def directives(policy: str) -> dict[str, list[str]]:
    parsed = (item.split() for item in policy.split(";") if item.strip())
    return {name: sources for name, *sources in parsed}


def assert_secured(response) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, name
    denied = response.headers["permissions-policy"].split(", ")
    assert set(DENIED) <= set(denied)
    policy = directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize(
    ("role", "method", "path", "status", "media"),
    [case[1:] for case in RESPONSES],
    ids=[case[0] for case in RESPONSES],
)
def test_every_kind_of_response_carries_the_security_headers(
    app_parts, role, method, path, status, media
):
    with client(app_parts) as http:
        if role is not None:
            log_in_client(http, role, role)
        body = b"{" + b" " * 2_000_000 + b"}" if method == "POST" else None
        response = http.request(method, path, content=body)
    assert response.status_code == status, response.text[:300]
    if media is not None:
        assert response.headers["content-type"].startswith(media)
    assert_secured(response)
    assert "strict-transport-security" not in response.headers  # plain HTTP


def test_the_pages_policy_allows_no_inline_code_and_no_other_site(app_parts):
    with client(app_parts) as http:
        log_in_client(http, "qualite")
        page = http.get(f"/service/{SERVICE}")
    policy = directives(page.headers["content-security-policy"])
    assert policy == {
        "default-src": ["'none'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
    # What the policy would block is not in the page: no script, no inline CSS, no data: image.
    html = page.text
    assert '<svg role="img"' in html
    assert not re.search(r"<script|<style|\sstyle=|\son[a-z]+=|data:", html)


def test_strict_transport_security_only_over_https(app_parts):
    with client(app_parts, base_url="https://testserver") as https:
        for path in ("/login", "/static/app.css", "/api/v1/config", f"/s/{SITE}/{SERVICE}"):
            response = https.get(path)
            assert response.headers["strict-transport-security"] == "max-age=31536000", path
            assert_secured(response)
    with client(app_parts) as http:
        assert "strict-transport-security" not in http.get("/login").headers


def test_a_route_keeps_the_headers_it_sets_itself(app_parts):
    with client(app_parts) as http:
        page = http.get(f"/s/{SITE}/{SERVICE}")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers.get_list("content-security-policy") == [
        page.headers["content-security-policy"]
    ]


def docs_policy_allows_its_inline_scripts(response) -> None:
    policy = directives(response.headers["content-security-policy"])
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    hashes = inline_script_hashes(response.text)
    assert hashes or "redoc" in response.text
    assert set(hashes) <= set(policy["script-src"])
    assert policy["frame-ancestors"] == ["'none'"]


def test_the_api_docs_run_their_own_inline_scripts_and_no_other(app_parts, tmp_path):
    # Development: FastAPI's own pages, open to anyone.
    with client(app_parts) as http:
        for path in ("/docs", "/docs/oauth2-redirect", "/redoc"):
            response = http.get(path)
            assert response.status_code == 200, path
            docs_policy_allows_its_inline_scripts(response)
            assert_secured(response)
        # An inline script injected into another page would not run there.
        assert "script-src" not in directives(http.get("/login").headers["content-security-policy"])
    # Production: the administrators' pages.
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'production.db'}",
        environment="production",
        secret_key=secrets.token_urlsafe(48),
    )
    storage = open_town_storage(settings)
    try:
        with client((settings, storage), base_url="https://testserver") as admin:
            log_in_client(admin, "informatique", "admin")
            for path in ("/docs", "/redoc"):
                response = admin.get(path)
                assert response.status_code == 200, path
                docs_policy_allows_its_inline_scripts(response)
                assert "strict-transport-security" in response.headers
    finally:
        storage.close()


def chart_svgs() -> dict[str, str]:
    return {
        "trend": charts.trend_chart(
            ["09/25", "10/25", "11/25"], [91.0, None, 72.5], [85.0, 85.0, 87.5],
            title="Satisfaction", description="Trois mois", target_label="Objectif",
        ),
        "distribution": charts.distribution_chart(
            ["Accueil", "Attente"], ["Pas du tout", "Plutôt non", "Plutôt oui", "Tout à fait",
                                    "Sans avis"],
            [[5, 10, 35, 45, 5], [10, 20, 30, 30, 10]], title="Réponses", description="Parts",
        ),
        "heatmap": charts.heatmap_chart(
            ["lun.", "mar."], ["9 h", "10 h", "11 h"], [[4.0, None, 12.0], [None, 7.5, 0.0]],
            [["4 (6)", "n < 5", "12 (9)"], ["", "7,5 (8)", "0 (5)"]],
            title="Attente", description="Par heure", scale_label="minutes",
        ),
        "bands": charts.band_chart(
            ["< 5 min", "5–15 min", "> 15 min"], [92.0, None, 61.0], ["92 %", "n < 5", "61 %"],
            ["N = 40", "N = 3", "N = 12"], 80.0,
            title="Satisfaction selon l'attente", description="Trois tranches",
            target_label="Objectif", below_label="Sous l'objectif",
        ),
        "pareto": charts.pareto_chart(
            ["L'attente", "Les locaux"], [3, 1], [75.0, 100.0], ["3", "1"], title="Raisons",
            description="Deux raisons", cumulative_label="Part cumulée",
        ),
    }  # fmt: skip


@pytest.mark.parametrize("name", ["trend", "distribution", "heatmap", "bands", "pareto"])
def test_charts_draw_without_inline_css_or_embedded_images(name):
    svg = chart_svgs()[name]
    root = ElementTree.fromstring(svg)
    elements = list(root.iter())
    assert not [e for e in elements if "style" in e.attrib]
    assert not [e for e in elements if e.tag.endswith(("}style", "}image", "}script"))]
    assert "data:" not in svg
    # Told by presentation attributes: a white background, coloured shapes, real text.
    assert root.get("font-family")
    assert root.find("{http://www.w3.org/2000/svg}rect").get("fill") == "#ffffff"
    assert any(e.get("fill") not in (None, "none", "#ffffff") for e in elements)
    assert [e for e in elements if e.tag.endswith("}text")]
    assert root.get("role") == "img"
    assert root.get("aria-label")
