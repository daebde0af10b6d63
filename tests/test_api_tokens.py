"""Personal API tokens on the real server under uvicorn (temp SQLite): people create and revoke
them through the real page and forms; a token is then sent as curl, Power Query or Power BI
would send it, and reads the figures and exports of its owner, as the owner is now, and nothing
else. The storage rules run on both engines."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
import sqlalchemy as sa

from sync_server.storage import api_tokens, schema, users
from sync_server.storage.api_tokens import InvalidLabel, UnknownApiToken
from sync_server.storage.devices import secret_hash
from sync_server.storage.models import ApiToken
from tests.fixtures.server import PASSWORD, SERVICE, SITE, LiveServer, add_user, bearer
from tests.fixtures.web import form_token
from tests.tools.desk_records import answers

MANAGER, CHEF, ADMIN = "qualite", "chef-iris", "informatique"
PARIS = ZoneInfo("Europe/Paris")
MARCH = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
FIGURES = "/api/v1/indicators?from=2025-03&to=2025-03"
ANSWERS_CSV = "/export/answers.csv?kind=month&period=2025-03"
SECRET = re.compile(r"<code[^>]*data-secret>([^<]+)</code>")


@pytest.fixture
def town(live_server: LiveServer) -> LiveServer:
    """The live server with its three kinds of staff, and March answers at two desks."""
    add_user(live_server.storage, MANAGER, "quality_manager")
    add_user(live_server.storage, CHEF, "service_manager", [SERVICE])
    add_user(live_server.storage, ADMIN, "admin")
    answers(live_server.storage, ["satisfied"] * 6, MARCH)
    answers(live_server.storage, ["dissatisfied"] * 5, MARCH, ("hotel-de-ville", "etat-civil"))
    return live_server


def signed_in(server: LiveServer, username: str) -> requests.Session:
    """A browser-like session signed in through the real form."""
    session = requests.Session()
    token = form_token(session.get(f"{server.url}/login").text)
    response = session.post(
        f"{server.url}/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return session


def post_form(
    server: LiveServer, session: requests.Session, action: str, data: dict[str, str]
) -> requests.Response:
    """Post a form of the tokens page with the CSRF token the page gave."""
    token = form_token(session.get(f"{server.url}/account/tokens").text)
    return session.post(
        f"{server.url}{action}", data={**data, "csrf_token": token}, allow_redirects=False
    )


def new_token(server: LiveServer, username: str, label: str = "Power BI qualité") -> str:
    """Create a token through the page as `username`; its secret, read from the answer."""
    response = post_form(server, signed_in(server, username), "/account/tokens", {"label": label})
    assert response.status_code == 200, response.text
    found = SECRET.search(response.text)
    assert found is not None
    return found.group(1)


def read(server: LiveServer, path: str, secret: str) -> requests.Response:
    """A request carrying only the token, as `curl -H "Authorization: Bearer …"` sends it."""
    return requests.get(f"{server.url}{path}", headers=bearer(secret), allow_redirects=False)


def stored_tokens(server: LiveServer) -> list[dict[str, object]]:
    with server.storage.read() as connection:
        rows = connection.execute(sa.select(schema.api_tokens))
        return [dict(row._mapping) for row in rows]


def assert_problem(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


# -- the page ---------------------------------------------------------------------------------


def test_a_quality_manager_creates_a_token_shown_once_and_stored_hashed(town):
    session = signed_in(town, MANAGER)
    page = session.get(f"{town.url}/").text
    assert 'href="/account/tokens"' in page  # linked from the menu
    response = post_form(town, session, "/account/tokens", {"label": "  Power BI   qualité "})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    secret = SECRET.search(response.text).group(1)
    assert secret.startswith("qvt_")
    assert len(secret) > 40
    assert "il ne sera plus jamais affiché" in response.text

    again = session.get(f"{town.url}/account/tokens").text
    assert secret not in again
    assert "Power BI qualité" in again
    assert "jamais" in again

    [row] = stored_tokens(town)
    assert row["secret_hash"] == secret_hash(secret)
    assert secret not in {str(value) for value in row.values()}
    assert (row["username"], row["label"], row["revoked_at"]) == (MANAGER, "Power BI qualité", None)


def test_a_label_is_required_and_nothing_is_created_without_one(town):
    session = signed_in(town, MANAGER)
    response = post_form(town, session, "/account/tokens", {"label": "   "})
    assert response.status_code == 400
    assert "Donnez un nom au jeton" in response.text
    assert SECRET.search(response.text) is None
    assert stored_tokens(town) == []


def test_a_form_without_the_session_csrf_token_creates_nothing(town):
    session = signed_in(town, MANAGER)
    response = session.post(
        f"{town.url}/account/tokens",
        data={"label": "x", "csrf_token": "forged"},
        allow_redirects=False,
    )
    assert response.status_code == 403
    assert stored_tokens(town) == []


def test_the_page_speaks_english_too(town):
    session = signed_in(town, MANAGER)
    page = session.get(f"{town.url}/account/tokens?lang=en").text
    assert "My API tokens" in page
    assert "Create the token" in page


# -- what a token reads -----------------------------------------------------------------------


def test_the_token_reads_the_indicators_as_curl_would(town):
    secret = new_token(town, MANAGER)
    response = read(town, FIGURES, secret)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert (body["from"], body["to"]) == ("2025-03", "2025-03")
    figures = {row["service"]: row["figures"] for row in body["rows"]}
    assert figures[SERVICE]["answers"]["value"] == 6
    assert figures["etat-civil"]["satisfaction_rate"]["value"] == 0.0


def test_the_token_downloads_the_exports(town):
    secret = new_token(town, MANAGER)
    response = read(town, ANSWERS_CSV, secret)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Date et heure;")
    assert len(lines) == 1 + 11
    xlsx = read(town, "/export/indicators.xlsx?kind=month&period=2025-03&lang=en", secret)
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"


def test_the_use_is_noted_at_most_once_a_minute(town):
    secret = new_token(town, MANAGER)
    assert [row["last_used_at"] for row in stored_tokens(town)] == [None]
    before = datetime.now(UTC)
    assert read(town, FIGURES, secret).status_code == 200
    [first] = [row["last_used_at"] for row in stored_tokens(town)]
    assert first is not None
    assert first >= before - timedelta(seconds=1)
    assert read(town, ANSWERS_CSV, secret).status_code == 200
    assert [row["last_used_at"] for row in stored_tokens(town)] == [first]
    page = signed_in(town, MANAGER).get(f"{town.url}/account/tokens").text
    assert first.astimezone(PARIS).strftime("%d/%m/%Y %H:%M") in page  # the town's time


def test_the_token_opens_no_page_no_form_and_no_device_route(town):
    secret = new_token(town, MANAGER)
    for path in ("/", "/service/iris", "/comments", "/admin/users", "/targets", "/account/tokens"):
        response = read(town, path, secret)
        assert response.status_code == 303, path  # to the sign-in page, nothing shown
        assert response.headers["location"].startswith("/login?next=")
    for action, data in (
        ("/account/tokens", {"label": "another"}),
        ("/targets", {"indicator": "satisfaction_rate", "value": "50", "valid_from": "2025-01-01"}),
        ("/admin/users/create", {"username": "intrus", "role": "admin", "password": PASSWORD}),
    ):
        response = requests.post(
            f"{town.url}{action}", data=data, headers=bearer(secret), allow_redirects=False
        )
        assert response.status_code == 303, action
    assert len(stored_tokens(town)) == 1
    with town.storage.read() as connection:
        assert users.get(connection, "intrus") is None
    body = {"protocol": 1, "sent_at": datetime.now(UTC).isoformat(), "records": []}
    sync = requests.post(f"{town.url}/api/v1/sync", json=body, headers=bearer(secret))
    assert_problem(sync, 401, "invalid_token")
    assert_problem(read(town, "/api/v1/config", secret), 401, "invalid_token")
    assert_problem(read(town, "/api/v1/health", secret), 401, "login_required")


def test_a_revoked_token_is_refused_with_a_bearer_challenge(town):
    secret = new_token(town, MANAGER)
    session = signed_in(town, MANAGER)
    [row] = stored_tokens(town)
    response = post_form(town, session, "/account/tokens/revoke", {"token": str(row["id"])})
    assert response.status_code == 303
    assert response.headers["location"] == "/account/tokens?done=revoked"
    page = session.get(f"{town.url}{response.headers['location']}").text
    assert "Jeton révoqué" in page
    assert "Révoqué le" in page
    for path in (FIGURES, ANSWERS_CSV):
        refused = read(town, path, secret)
        assert_problem(refused, 401, "token_revoked")
        assert refused.headers["www-authenticate"] == "Bearer"


def test_an_unknown_token_is_refused(town):
    refused = read(town, FIGURES, "qvt_" + "x" * 43)
    assert_problem(refused, 401, "invalid_token")
    assert refused.headers["www-authenticate"] == "Bearer"
    assert_problem(read(town, ANSWERS_CSV, "qvt_" + "x" * 43), 401, "invalid_token")


def test_nobody_revokes_another_users_token(town):
    new_token(town, MANAGER)
    [row] = stored_tokens(town)
    chef = signed_in(town, CHEF)
    response = post_form(town, chef, "/account/tokens/revoke", {"token": str(row["id"])})
    assert response.status_code == 404
    assert [row["revoked_at"] for row in stored_tokens(town)] == [None]


def test_a_service_managers_token_sees_only_their_services(town):
    secret = new_token(town, CHEF)
    body = read(town, FIGURES, secret).json()
    assert {row["service"] for row in body["rows"]} == {SERVICE}
    other = read(town, f"{FIGURES}&service=etat-civil", secret).json()
    assert other["rows"] == []
    csv = read(town, ANSWERS_CSV, secret).content.decode("utf-8-sig").splitlines()
    assert len(csv) == 1 + 6
    assert all(line.endswith(f";{SITE};{SERVICE}") for line in csv[1:])  # the codes, last
    assert_problem(read(town, f"{ANSWERS_CSV}&service=etat-civil", secret), 403, "forbidden")


def test_a_disabled_users_token_stops_working_and_works_again_once_enabled(town):
    secret = new_token(town, CHEF)
    with town.storage.write() as connection:
        users.set_disabled(connection, CHEF, True)
    refused = read(town, FIGURES, secret)
    assert_problem(refused, 401, "account_disabled")
    assert refused.headers["www-authenticate"] == "Bearer"
    assert_problem(read(town, ANSWERS_CSV, secret), 401, "account_disabled")
    with town.storage.write() as connection:
        users.set_disabled(connection, CHEF, False)
    assert read(town, FIGURES, secret).status_code == 200


def test_an_administrator_neither_creates_nor_uses_a_token(town):
    admin = signed_in(town, ADMIN)
    page = admin.get(f"{town.url}/fleet").text
    assert 'href="/account/tokens"' not in page
    assert admin.get(f"{town.url}/account/tokens", allow_redirects=False).status_code == 403
    csrf = form_token(page)
    response = admin.post(
        f"{town.url}/account/tokens",
        data={"label": "admin", "csrf_token": csrf},
        allow_redirects=False,
    )
    assert response.status_code == 403
    assert stored_tokens(town) == []
    # A quality manager's token, once the account has become an administrator's, reads nothing.
    secret = new_token(town, MANAGER)
    with town.storage.write() as connection:
        users.set_access(connection, MANAGER, "admin", [])
    assert_problem(read(town, FIGURES, secret), 403, "forbidden")
    assert_problem(read(town, ANSWERS_CSV, secret), 403, "forbidden")


def test_a_session_still_reads_the_figures_without_a_token(town):
    session = signed_in(town, MANAGER)
    assert session.get(f"{town.url}{FIGURES}").status_code == 200
    assert session.get(f"{town.url}{ANSWERS_CSV}").status_code == 200


# -- the storage, on both engines -------------------------------------------------------------


def test_tokens_are_created_found_marked_and_revoked(any_storage):
    add_user(any_storage, MANAGER, "quality_manager")
    add_user(any_storage, CHEF, "service_manager", [SERVICE])
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    with any_storage.write() as connection:
        issued = api_tokens.create(connection, username=MANAGER, label="Metabase", now=now)
        api_tokens.create(connection, username=MANAGER, label="Excel", now=now)
    token = issued.token
    assert (token.username, token.label, token.created_at) == (MANAGER, "Metabase", now)
    with any_storage.read() as connection:
        assert api_tokens.by_secret(connection, issued.secret) == token
        assert api_tokens.by_secret(connection, issued.secret[4:]) is None  # no qvt_ prefix
        assert [t.label for t in api_tokens.of_user(connection, MANAGER)] == ["Excel", "Metabase"]
        assert api_tokens.of_user(connection, CHEF) == []

    with any_storage.write() as connection:
        api_tokens.mark_used(connection, token.id, now)
        api_tokens.mark_used(connection, token.id, now + timedelta(seconds=30))
    with any_storage.read() as connection:
        assert api_tokens.by_secret(connection, issued.secret).last_used_at == now
    later = now + timedelta(minutes=2)
    with any_storage.write() as connection:
        api_tokens.mark_used(connection, token.id, later)
        with pytest.raises(UnknownApiToken):
            api_tokens.revoke(connection, CHEF, token.id)
    with any_storage.write() as connection:
        assert api_tokens.revoke(connection, MANAGER, token.id, later).revoked_at == later
        assert api_tokens.revoke(connection, MANAGER, token.id, later + timedelta(1)).revoked
    with any_storage.read() as connection:
        found = api_tokens.by_secret(connection, issued.secret)
    assert (found.last_used_at, found.revoked_at) == (later, later)


# -- the rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("Power BI", "Power BI"), ("  Excel \n mensuel ", "Excel mensuel"), ("é" * 100, "é" * 100)],
)
def test_a_label_is_trimmed(typed, kept):
    assert api_tokens.check_label(typed) == kept


@pytest.mark.parametrize(("typed", "code"), [("", "label_empty"), (" \t", "label_empty"),
                                             ("x" * 101, "label_long")])  # fmt: skip
def test_a_label_must_name_the_token(typed, code):
    with pytest.raises(InvalidLabel) as refused:
        api_tokens.check_label(typed)
    assert refused.value.code == code


def test_a_secret_is_recognisable_and_never_the_same():
    secrets = {api_tokens.new_secret() for _ in range(100)}
    assert len(secrets) == 100
    assert all(api_tokens.is_api_token(s) and len(s) >= 47 for s in secrets)
    assert not api_tokens.is_api_token("qvt_")
    assert not api_tokens.is_api_token("kVx3-device-token")


def test_a_use_is_noted_once_a_minute():
    at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    token = ApiToken(1, MANAGER, "Excel", at, last_used_at=None, revoked_at=None)
    assert api_tokens.use_mark_due(token, at)
    used = ApiToken(1, MANAGER, "Excel", at, last_used_at=at, revoked_at=None)
    assert not api_tokens.use_mark_due(used, at + timedelta(seconds=59))
    assert api_tokens.use_mark_due(used, at + timedelta(minutes=1))
