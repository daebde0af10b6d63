"""The JSON API keeps the contract its OpenAPI document states: schemathesis sends every
operation its examples and generated requests, valid and invalid, in-process, and each answer
must be no server error, with a declared status, a declared media type and a body matching the
declared schema. As a stranger (no credentials), as an enrolled agent tablet, as the
logged-in quality manager, and with a quality manager's personal API token."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sync_server.app import create_app
from sync_server.session_cookie import SESSION_COOKIE
from sync_server.settings import Settings
from sync_server.storage import api_tokens
from tests.fixtures.server import (
    TEST_SECRET,
    AppServer,
    add_user,
    bearer,
    enrolled_token,
    signed_in_cookie,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Bounded and reproducible: the same cases on every run. The cases of one operation share one
# app (the contract must hold whatever earlier cases stored), hence the fixture health check off.
BOUNDED = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def served_document() -> dict[str, Any]:
    """The document as the server serves it; it does not depend on the database, so it is read
    from an app on an empty in-memory one. Each test sends its requests to its own app."""
    settings = Settings(database_url="sqlite://", secret_key=TEST_SECRET, environment="development")
    return create_app(settings).openapi()


schema = schemathesis.openapi.from_dict(served_document())


@pytest.fixture
def tablet(app_server: AppServer) -> dict[str, str]:
    """The headers of an enrolled agent tablet."""
    return bearer(enrolled_token(app_server.client(), mode="tablet"))


@pytest.fixture
def quality_manager(app_server: AppServer) -> dict[str, str]:
    """The headers of the logged-in quality manager: the signed session cookie."""
    add_user(app_server.storage, "qualite", "quality_manager")
    cookie = signed_in_cookie(app_server.storage, app_server.settings, "qualite")
    return {"Cookie": f"{SESSION_COOKIE}={cookie}"}


@pytest.fixture
def personal_token(app_server: AppServer) -> dict[str, str]:
    """The headers of a tool reading the figures with a quality manager's personal token."""
    add_user(app_server.storage, "qualite", "quality_manager")
    with app_server.storage.write() as connection:
        issued = api_tokens.create(connection, username="qualite", label="Power BI")
    return bearer(issued.secret)


@schema.parametrize()
@BOUNDED
def test_a_stranger_gets_only_documented_answers(case, app_server: AppServer):
    case.call_and_validate(app=app_server.app, checks=CHECKS)


@schema.parametrize()
@BOUNDED
def test_an_enrolled_tablet_gets_only_documented_answers(case, app_server: AppServer, tablet):
    case.call_and_validate(app=app_server.app, headers=tablet, checks=CHECKS)


@schema.parametrize()
@BOUNDED
def test_the_quality_manager_gets_only_documented_answers(
    case, app_server: AppServer, quality_manager
):
    case.call_and_validate(app=app_server.app, headers=quality_manager, checks=CHECKS)


@schema.parametrize()
@BOUNDED
def test_a_personal_token_gets_only_documented_answers(case, app_server: AppServer, personal_token):
    case.call_and_validate(app=app_server.app, headers=personal_token, checks=CHECKS)
