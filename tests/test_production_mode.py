"""Production is the default: a server refuses to start without a strong secret key, and only
`sync-server demo` runs in development mode. In production the API's documentation pages
(`/docs`, `/redoc`, `/openapi.json`) are an administrator's; `QV_API_DOCS=false` removes them."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sync_server.app import create_app
from sync_server.demo.command import demo_settings
from sync_server.settings import (
    DEVELOPMENT_SECRET,
    InsecureSettingsError,
    Settings,
    secret_weakness,
)
from tests.fixtures.server import log_in_client, open_town_storage

STRONG = secrets.token_urlsafe(48)
DOCS = ("/openapi.json", "/docs", "/redoc")


@pytest.fixture
def no_qv_environment(monkeypatch) -> None:
    for name in ("QV_ENVIRONMENT", "QV_SECRET_KEY", "QV_API_DOCS"):
        monkeypatch.delenv(name, raising=False)


def test_production_is_the_default(no_qv_environment):
    assert Settings().environment == "production"


@pytest.mark.parametrize(
    "secret", ["a", "", " ", " " * 40, "x" * 64, "ab" * 32, DEVELOPMENT_SECRET]
)
def test_weak_secrets_are_named(secret):
    assert secret_weakness(secret) is not None


def test_random_secrets_pass():
    for _ in range(20):
        assert secret_weakness(secrets.token_urlsafe(48)) is None
        assert secret_weakness(secrets.token_urlsafe(24)) is None  # 32 characters


@pytest.mark.parametrize("secret", [DEVELOPMENT_SECRET, "a", "", " "])
def test_a_production_app_refuses_a_weak_secret_and_says_how_to_make_one(no_qv_environment, secret):
    with pytest.raises(InsecureSettingsError) as refused:
        create_app(Settings(database_url="sqlite://", secret_key=secret))
    assert 'python -c "import secrets; print(secrets.token_urlsafe(48))"' in str(refused.value)


def test_only_the_demo_runs_in_development(no_qv_environment):
    settings = demo_settings(Settings())
    assert settings.is_development
    assert settings.secret_key != DEVELOPMENT_SECRET
    assert secret_weakness(settings.secret_key) is None


# -- the API's documentation -----------------------------------------------------------------


@pytest.fixture
def production(tmp_path: Path) -> Iterator[Any]:
    with app_with(tmp_path, environment="production", secret_key=STRONG) as app:
        yield app


@contextmanager
def app_with(folder: Path, **values: Any) -> Iterator[Any]:
    """The real app on a temp database in `folder` with the demo town, `values` its settings."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = Settings(database_url=f"sqlite:///{folder / 'server.db'}", **values)
    storage = open_town_storage(settings)
    yield create_app(settings, storage)
    storage.close()


def client_of(app: Any) -> TestClient:
    # The production cookie is `Secure`: it travels over HTTPS only.
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def test_in_production_a_stranger_is_sent_to_sign_in(production):
    with client_of(production) as stranger:
        for path in DOCS:
            response = stranger.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login"), path


def test_in_production_only_an_administrator_reads_the_api_docs(production):
    with client_of(production) as manager, client_of(production) as admin:
        log_in_client(manager, "qualite", "quality_manager")
        log_in_client(admin, "informatique", "admin")
        for path in DOCS:
            assert manager.get(path).status_code == 403, path
            assert admin.get(path).status_code == 200, path
        assert "/api/v1/sync" in admin.get("/openapi.json").json()["paths"]
        assert "/openapi.json" in admin.get("/docs").text


def test_the_api_docs_can_be_turned_off(tmp_path):
    for environment, secret in (("production", STRONG), ("development", DEVELOPMENT_SECRET)):
        values = {"environment": environment, "secret_key": secret, "api_docs": False}
        with app_with(tmp_path / environment, **values) as app, client_of(app) as admin:
            log_in_client(admin, "informatique", "admin")
            for path in DOCS:
                assert admin.get(path).status_code == 404, (environment, path)


def test_in_development_the_api_docs_stay_open(tmp_path):
    values = {"environment": "development", "secret_key": DEVELOPMENT_SECRET}
    with app_with(tmp_path, **values) as app, TestClient(app) as stranger:
        for path in DOCS:
            assert stranger.get(path).status_code == 200, path


def test_in_production_the_session_cookie_is_a_secure_host_only_cookie(production):
    with client_of(production) as browser:
        set_cookie = browser.get("/login").headers["set-cookie"]
    name, _, rest = set_cookie.partition("=")
    attributes = {part.strip().split("=")[0].lower(): part for part in rest.split(";")[1:]}
    assert name == "__Host-qv_session"
    assert {"secure", "httponly", "path", "samesite"} <= set(attributes)
    assert attributes["path"].strip().lower() == "path=/"
    assert "domain" not in attributes
