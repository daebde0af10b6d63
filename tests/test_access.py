"""Who may do what: the table of roles and permissions read directly, every route of the app
walked to check it declares who may call it, and what a refused visitor gets, role by role."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from sync_server.access import (
    GRANTS,
    Permission,
    holders,
    may,
    may_see,
    permissions,
    visible_services,
)
from sync_server.api.deps import ApiAccess, current_device
from sync_server.app import create_app
from sync_server.settings import Settings
from sync_server.storage import Storage, User, users
from sync_server.storage.models import ROLES
from sync_server.web.access import FormAccess, PageAccess, SignedIn
from tests.fixtures.server import SERVICE, SITE, add_user, log_in_client
from tests.fixtures.web import form_token
from tests.tools.routes import served_routes

P = Permission

# What the product promises each role, written out once more as the reference for the table.
PROMISED = {
    "quality_manager": {
        P.READ_INDICATORS, P.HANDLE_COMMENTS, P.SEE_PERSONAL_DATA, P.REVIEW_FLAGGED,
        P.LIST_STAFF_NAMES, P.SET_TARGETS, P.RECORD_ACTIONS, P.PLAN_ACTIONS, P.VALIDATE_ACTIONS,
        P.MANAGE_REFERENTIAL, P.READ_INTERNAL_AUDITS, P.ENTER_FINDINGS, P.PLAN_INTERNAL_AUDITS,
        P.WATCH_FLEET, P.PRINT_CODES, P.MANAGE_SURVEYS, P.READ_ACCOUNTS, P.READ_AUDIT,
        P.EVERY_SERVICE, P.EVALUATE_MYSTERY, P.READ_MEETINGS, P.LEAD_MEETINGS,
    },
    # Their services' figures, comments and actions; their audits and the meetings, read only.
    "service_manager": {
        P.READ_INDICATORS, P.HANDLE_COMMENTS, P.PLAN_ACTIONS, P.READ_INTERNAL_AUDITS,
        P.READ_MEETINGS,
    },
    "admin": {
        P.WATCH_FLEET, P.PRINT_CODES, P.MANAGE_SURVEYS, P.READ_ACCOUNTS, P.MANAGE_ACCOUNTS,
        P.READ_AUDIT, P.READ_API_DOCS, P.EVERY_SERVICE,
    },
    # Their audits and the findings they enter there: no figures, no comments, no service.
    "internal_auditor": {P.READ_INTERNAL_AUDITS, P.ENTER_FINDINGS},
}  # fmt: skip
# Routes anybody may call: signing in and out, the anonymous phone survey, static files,
# enrolment (its one-time code is the credential) and, in development only, the API's own
# documentation (in production an administrator's: tests/test_api_docs_access.py).
PUBLIC = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/s/{site}/{service}"),
    ("POST", "/s/{site}/{service}"),
    ("GET", "/s/{site}/{service}/merci"),
    ("POST", "/s/{site}/{service}/merci"),  # a visitor's contact details, left to be answered
    ("GET", "/v/{token}"),
    ("POST", "/v/{token}"),
    ("GET", "/static/{name}"),
    ("POST", "/api/v1/enrol"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("GET", "/health/live"),  # a load balancer's probes: a word, no data
    ("GET", "/health/ready"),
}
ACCESS_TYPES = (PageAccess, FormAccess, ApiAccess, SignedIn)


def user(role: str, services: list[str] | None = None) -> User:
    return User(username=f"{role}-user", role=role, services=services or [])  # type: ignore[arg-type]


# -- the table -------------------------------------------------------------------------------


def test_every_role_has_a_row_and_every_permission_a_holder():
    assert set(GRANTS) == set(ROLES)
    assert [p for p in Permission if not holders(p)] == []


@pytest.mark.parametrize("role", ROLES)
def test_each_role_may_do_what_the_product_promises_and_no_more(role):
    assert permissions(user(role)) == PROMISED[role]


def test_the_administrator_never_reads_the_visitors_answers():
    admin = user("admin")
    for permission in (P.READ_INDICATORS, P.HANDLE_COMMENTS, P.SEE_PERSONAL_DATA):
        assert not may(admin, permission)


def test_what_only_one_role_may_do():
    assert holders(P.SEE_PERSONAL_DATA) == ["quality_manager"]
    assert holders(P.REVIEW_FLAGGED) == ["quality_manager"]
    assert holders(P.LIST_STAFF_NAMES) == ["quality_manager"]
    assert holders(P.SET_TARGETS) == ["quality_manager"]
    assert holders(P.RECORD_ACTIONS) == ["quality_manager"]
    assert holders(P.VALIDATE_ACTIONS) == ["quality_manager"]
    assert holders(P.MANAGE_REFERENTIAL) == ["quality_manager"]
    assert holders(P.EVALUATE_MYSTERY) == ["quality_manager"]
    assert holders(P.MANAGE_ACCOUNTS) == ["admin"]
    assert holders(P.PLAN_INTERNAL_AUDITS) == ["quality_manager"]


def test_an_internal_auditor_reads_no_figure_comment_or_service():
    auditor = user("internal_auditor", ["iris"])
    for permission in (P.READ_INDICATORS, P.HANDLE_COMMENTS, P.PLAN_ACTIONS, P.EVERY_SERVICE):
        assert not may(auditor, permission)
    assert not may(user("admin"), P.READ_INTERNAL_AUDITS)


def test_a_role_the_table_does_not_know_may_do_nothing():
    stranger = user("auditor", ["iris"])
    assert permissions(stranger) == frozenset()
    assert not may_see(stranger, "etat-civil")
    assert visible_services(stranger) == ["iris"]


def test_a_service_manager_reaches_their_services_only():
    manager = user("service_manager", ["iris", "ccas"])
    assert may_see(manager, "iris")
    assert not may_see(manager, "etat-civil")
    assert visible_services(manager) == ["iris", "ccas"]
    assert visible_services(manager, ["etat-civil"]) == []
    assert visible_services(manager, ["ccas", "etat-civil"]) == ["ccas"]
    assert visible_services(user("quality_manager"), ["etat-civil"]) == ["etat-civil"]
    assert visible_services(user("quality_manager")) is None


SERVICES = st.lists(st.sampled_from(["iris", "ccas", "etat-civil", "mediatheque"]), max_size=4)


@given(role=st.sampled_from(ROLES), own=SERVICES, wanted=st.none() | SERVICES)
def test_visible_services_never_reach_beyond_the_users_services(role, own, wanted):
    someone = user(role, own)
    seen = visible_services(someone, wanted)
    if may(someone, P.EVERY_SERVICE):
        assert seen == wanted
    else:
        # Never None ("all of them") for a limited user, whatever they ask for.
        assert seen is not None
        assert set(seen) <= set(own)
        assert not wanted or set(seen) <= set(wanted)
    assert all(may_see(someone, service) for service in seen or [])


# -- every route declares who may call it ----------------------------------------------------


def dependency_calls(route: Any) -> Iterator[Any]:
    """Every dependency a route declares, at any depth (none for the documentation's routes)."""
    dependant = getattr(route, "dependant", None)
    pending = list(dependant.dependencies) if dependant is not None else []
    while pending:
        dependant = pending.pop()
        yield dependant.call
        pending.extend(dependant.dependencies)


def access_of(route: Any) -> list[Any]:
    return [call for call in dependency_calls(route) if isinstance(call, ACCESS_TYPES)]


def endpoints(app: Any) -> Iterator[tuple[str, str, Any]]:
    for route in served_routes(app):
        for method in sorted((route.methods or set()) - {"HEAD"}):
            yield method, route.path, route


@pytest.fixture
def app(server_settings: Settings, server_storage: Storage) -> FastAPI:
    return create_app(server_settings, server_storage)


def test_the_walk_sees_every_part_of_the_app(app):
    paths = {path for _, path, _ in endpoints(app)}
    assert {"/", "/service/{service}", "/admin/users", "/api/v1/sync", "/login"} <= paths
    assert len(paths) >= 35


def test_every_route_declares_who_may_call_it(app):
    undeclared = sorted(
        (method, path)
        for method, path, route in endpoints(app)
        if (method, path) not in PUBLIC
        and not access_of(route)
        and current_device not in set(dependency_calls(route))
    )
    assert undeclared == []


def test_public_routes_are_exactly_the_listed_ones(app):
    served = {(method, path) for method, path, _ in endpoints(app)}
    assert served >= PUBLIC
    for method, path, route in endpoints(app):
        if (method, path) in PUBLIC:
            assert access_of(route) == [], (method, path)


def test_pages_refuse_with_pages_and_the_api_with_problems(app):
    for method, path, route in endpoints(app):
        kinds = {type(call) for call in access_of(route)}
        if path.startswith("/api/"):
            assert kinds <= {ApiAccess}, (method, path)
        else:
            assert ApiAccess not in kinds, (method, path)


def test_every_posted_staff_form_checks_its_csrf_token(app):
    for method, path, route in endpoints(app):
        kinds = {type(call) for call in access_of(route)}
        if kinds & {PageAccess, FormAccess}:
            expected = FormAccess if method == "POST" else PageAccess
            assert kinds == {expected}, (method, path)


def test_personal_api_tokens_open_only_the_reads_of_figures(app):
    taking = sorted(
        (method, path)
        for method, path, route in endpoints(app)
        for access in access_of(route)
        if getattr(access, "tokens", False)
    )
    assert taking == [("GET", "/api/v1/indicators"), ("GET", "/export/{what}.{fmt}")]


def test_pages_naming_a_service_narrow_it_to_the_users_services(app):
    for method, path, route in endpoints(app):
        for access in access_of(route):
            named = {p.name for p in route.dependant.path_params + route.dependant.query_params}
            if "service" not in named:
                continue
            if isinstance(access, PageAccess) and access.permission == P.READ_INDICATORS:
                assert access.scoped, (method, path)


# -- what a refused visitor gets, on every staff route -----------------------------------------


def staff_routes(app: Any) -> list[tuple[str, str, Permission]]:
    found = []
    for method, path, route in endpoints(app):
        for access in access_of(route):
            if isinstance(access, PageAccess | FormAccess):
                found.append((method, path, access.permission))
    return sorted(set(found))


def address(path: str) -> str:
    """A concrete address for a route: each path parameter filled with a plausible value."""
    values = {"service": SERVICE, "site": SITE, "what": "answers", "fmt": "csv"}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), path)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield client


def test_nobody_signed_in_is_sent_to_sign_in_on_every_staff_route(app, client):
    routes = staff_routes(app)
    assert len(routes) >= 20
    for method, path, _ in routes:
        response = client.request(method, address(path))
        assert response.status_code == 303, (method, path)
        assert response.headers["location"] == f"/login?next={address(path)}", (method, path)


@pytest.mark.parametrize("role", ROLES)
def test_a_role_without_the_permission_gets_the_403_page_with_its_own_menu(app, client, role):
    log_in_client(client, f"refused-{role}", role)
    refused = [(m, p) for m, p, permission in staff_routes(app) if role not in holders(permission)]
    assert refused
    for method, path in refused:
        response = client.request(method, address(path))
        if path == "/" and role in HOMES:
            # The overview sends an administrator or an auditor to their own home.
            assert (response.status_code, response.headers["location"]) == (303, HOMES[role])
            continue
        assert response.status_code == 403, (role, method, path)
        assert "Votre rôle ne donne pas accès" in response.text
        assert menu(response.text) == MENU[role], (role, method, path)


def test_a_service_manager_asking_for_another_service_gets_the_403_page(app, client):
    add_user(app.state.storage, "iris-only", "service_manager", [SERVICE])
    log_in_client(client, "iris-only", "service_manager")
    assert client.get(f"/service/{SERVICE}").status_code == 200
    for path in OTHER_SERVICE:
        response = client.get(path)
        assert response.status_code == 403, path
        assert menu(response.text) == MENU["service_manager"]


HOMES = {"admin": "/fleet", "internal_auditor": "/audits"}
FLEET_MENU = ["/fleet", "/codes", "/admin/surveys", "/admin/users", "/audit"]
MENU = {
    "quality_manager": [
        "/",
        "/comments",
        "/review",
        "/actions",
        "/mystery",
        "/referential",
        "/meetings",
        "/audits",
        "/targets",
        *FLEET_MENU,
    ],
    "service_manager": [
        "/",
        "/comments",
        "/review",
        "/actions",
        "/mystery",
        "/meetings",
        "/audits",
    ],
    "admin": FLEET_MENU,
    "internal_auditor": ["/audits"],
}
OTHER_SERVICE = [
    "/service/etat-civil",
    "/comments?service=etat-civil",
    "/export/answers.csv?service=etat-civil",
    "/reports/poster/etat-civil.pdf",
]


def menu(page: str) -> list[str]:
    nav = re.search(r'<nav class="mainnav".*?</nav>', page, re.S)
    return re.findall(r'<a href="([^"]+)"', nav.group(0)) if nav else []


@pytest.mark.parametrize(
    "path",
    [
        f"/service/{SERVICE}?kind=month&period=2025-01&suspect=1",
        "/?kind=quarter&period=2025-Q1",
        f"/export/answers.csv?kind=month&period=2025-01&service={SERVICE}",
        "/comments?status=new&service=" + SERVICE,
    ],
)
def test_after_signing_in_the_visitor_is_back_at_the_whole_address(app, client, path):
    with app.state.storage.write() as connection:
        users.create(
            connection, username="back", password="a long test password", role="quality_manager"
        )
    sent = client.get(path)
    assert sent.status_code == 303
    login_page = client.get(sent.headers["location"])
    kept = re.search(r'name="next" value="([^"]*)"', login_page.text)
    assert kept is not None
    assert html.unescape(kept.group(1)) == path
    signed_in = client.post(
        "/login",
        data={
            "username": "back",
            "password": "a long test password",
            "csrf_token": form_token(login_page.text),
            "next": html.unescape(kept.group(1)),
        },
    )
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, path)
