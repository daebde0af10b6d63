"""What every answer of the server respects, walked over every route the app serves: reading
changes nothing (state changes only through a posted form or the API's POSTs), text comes with
its character set, and no cross-origin site is granted anything (no CORS headers at all).

The real app in-process on the demo town filled with the seeded demo data."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from sync_server.demo.command import ingest_batch
from sync_server.demo.data import generate
from sync_server.storage import projection, schema, surveys
from tests.fixtures.server import SERVICE, SITE, TOWN, AppServer, log_in_client
from tests.tools.routes import served_routes

# The values each path parameter takes, so that every GET route is asked for each thing it serves.
PATH_VALUES = {
    "service": [SERVICE],
    "site": [SITE],
    "name": ["app.css", "phone.css", "qr.png", "qr.svg", "poster.pdf"],
    "what": ["answers", "visits", "indicators"],
    "fmt": ["csv", "xlsx"],
    "survey_id": ["qualivilles-accueil"],
    "version": ["1"],
    "token": ["not-a-real-visit-token"],
    "action_id": ["1", "999999"],
    "audit_id": ["1", "999999"],
    "attachment_id": ["1", "999999"],
    "evaluation_id": ["1", "999999"],
    "meeting_id": ["1", "999999"],
}
# Written by reading, on purpose: a session notes when it was last used; the audit trail notes
# who downloaded what.
BOOKKEEPING = re.compile(r"^(sessions|audit.*)$")
ROLES = ("quality_manager", "service_manager", "admin", None)


@pytest.fixture(scope="module")
def town(tmp_path_factory) -> Any:
    from sync_server.app import create_app
    from tests.fixtures.server import APP_URL, open_town_storage, server_settings_for

    folder = tmp_path_factory.mktemp("hygiene")
    settings = server_settings_for(folder, public_base_url=APP_URL)
    storage = open_town_storage(settings)
    with storage.read() as connection:
        survey = surveys.current(connection)
    for batch in generate(TOWN, survey, datetime.now(UTC), seed=5).batches[:40]:
        ingest_batch(storage, batch)
    server = AppServer(app=create_app(settings, storage), storage=storage, settings=settings)
    with server.clients:
        yield server
    storage.close()


def get_paths(server: AppServer) -> list[str]:
    paths: set[str] = set()
    for route in served_routes(server.app):
        if "GET" not in (getattr(route, "methods", None) or set()):
            continue
        filled = [route.path]
        for name in re.findall(r"{(\w+)}", route.path):
            filled = [
                path.replace(f"{{{name}}}", value) for path in filled for value in PATH_VALUES[name]
            ]
        paths.update(filled)
    return sorted(paths)


def client_as(server: AppServer, role: str | None) -> Any:
    client = server.client()
    if role is not None:
        log_in_client(client, f"walker-{role}", role)
        if role == "service_manager":
            from sync_server.storage import users

            with server.storage.write() as connection:
                users.set_access(connection, f"walker-{role}", role, [SERVICE])
            log_in_client(client, f"walker-{role}", role)
    return client


def fingerprint(server: AppServer) -> dict[str, str]:
    """A digest of every row of every table but the bookkeeping ones."""
    digests = {}
    with server.storage.read() as connection:
        for table in schema.metadata.sorted_tables:
            if BOOKKEEPING.match(table.name):
                continue
            rows = connection.execute(sa.select(table)).all()
            text = "\n".join(sorted(repr(tuple(row)) for row in rows))
            digests[table.name] = hashlib.sha256(text.encode()).hexdigest()
    return digests


def walk(server: AppServer, client: Any) -> list[Any]:
    return [(path, client.get(path, follow_redirects=False)) for path in get_paths(server)]


@dataclass(frozen=True)
class Walk:
    """Every GET route asked for once by one role, and the database before and after."""

    answers: list[Any]
    before: dict[str, str]
    after: dict[str, str]


@pytest.fixture(scope="module")
def walks(town) -> dict[str | None, Walk]:
    projection.catch_up(town.storage)  # the figures have caught up before the first read
    found = {}
    for role in ROLES:
        client = client_as(town, role)  # signed in (an account, a session) before the walk
        before = fingerprint(town)
        answers = walk(town, client)
        found[role] = Walk(answers, before, fingerprint(town))
    return found


def test_the_walk_reaches_every_kind_of_page(town, walks):
    paths = get_paths(town)
    for expected in ("/", "/comments", "/fleet", "/admin/users", "/export/answers.csv"):
        assert expected in paths
    assert len(paths) > 25
    assert [path for path, _response in walks["quality_manager"].answers] == paths
    for role in ("quality_manager", "admin"):
        assert 200 in {response.status_code for _path, response in walks[role].answers}


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role or "stranger")
def test_reading_any_page_changes_nothing(walks, role):
    assert walks[role].after == walks[role].before


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role or "stranger")
def test_every_text_answer_names_its_character_set(walks, role):
    unnamed = []
    for path, response in walks[role].answers:
        media = response.headers.get("content-type", "")
        textual = media.startswith("text/") or "+xml" in media
        if response.content and textual and "charset=" not in media.lower():
            unnamed.append((path, media))
    assert unnamed == []


def test_no_other_site_is_granted_anything_by_cors(town):
    client = client_as(town, "quality_manager")
    evil = {"Origin": "https://attaquant.example"}
    for path in ["/", "/api/v1/indicators", "/export/answers.csv", "/api/v1/health"]:
        response = client.get(path, headers=evil, follow_redirects=False)
        assert not any(name.lower().startswith("access-control-") for name in response.headers)
        preflight = client.options(path, headers={**evil, "Access-Control-Request-Method": "POST"})
        assert preflight.status_code in {404, 405}
        assert "access-control-allow-origin" not in preflight.headers


@pytest.mark.parametrize(
    "path",
    [
        "/static/../../pyproject.toml", "/static/..%2F..%2Fpyproject.toml",
        "/static/%2e%2e/%2e%2e/pyproject.toml", "/static/..%5C..%5Cpyproject.toml",
        "/static/__init__.py", "/static/.git", "/.git/config", "/static/app.css%00.py",
        "/static/APP.CSS", "/static//etc/passwd", "/sync_server/settings.py",
    ],
)  # fmt: skip
def test_no_address_reaches_a_file_outside_the_static_folder(town, path):
    response = town.client().get(path, follow_redirects=False)
    assert response.status_code in {303, 404, 405}, path
    assert "[project]" not in response.text
    assert "root:" not in response.text
    assert "QV_" not in response.text
