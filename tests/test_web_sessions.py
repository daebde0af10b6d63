"""Dashboard sessions live on the server: the real app in-process (temp SQLite), people signing in
through the real form. An old cookie opens nothing once its session ended: after signing out, a
password reset, a role change, disabling the account (enabling it again revives nothing), an
idle spell or the absolute lifetime."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import TimestampSigner

from sync_server.api.deps import SESSION_ID
from sync_server.session_cookie import SESSION_COOKIE
from sync_server.storage import sessions
from tests.fixtures.server import PASSWORD, AppServer, add_user, session_cookie
from tests.fixtures.web import form_token
from tests.tools.server_reads import stored_rows
from tests.tools.staff_forms import post, sign_in

ADMIN, MANAGER = "informatique", "qualite"
NEW_PASSWORD = "un tout autre mot de passe"


@pytest.fixture
def town(app_server: AppServer) -> AppServer:
    add_user(app_server.storage, ADMIN, "admin")
    add_user(app_server.storage, MANAGER, "quality_manager")
    return app_server


def cookie_of(client) -> str:
    return client.cookies.get(SESSION_COOKIE)


def opens(server: AppServer, cookie: str, path: str = "/") -> bool:
    """Whether a new browser presenting `cookie` gets the page (not the sign-in page)."""
    stranger = server.client()
    stranger.cookies.set(SESSION_COOKIE, cookie)
    return stranger.get(f"{server.url}{path}", follow_redirects=False).status_code == 200


def session_id(cookie: str) -> str:
    """The session id inside a cookie (its payload is base64 JSON before the signature)."""
    payload = cookie.split(".")[0]
    return json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))[SESSION_ID]


def sign_out(server: AppServer, client) -> None:
    token = form_token(client.get(f"{server.url}/").text)
    response = client.post(
        f"{server.url}/logout", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303


def test_the_cookie_of_a_signed_out_session_opens_nothing(town):
    manager = sign_in(town, MANAGER)
    old = cookie_of(manager)
    assert opens(town, old)
    sign_out(town, manager)
    assert not opens(town, old)
    # Nor the JSON API that takes the session.
    stranger = town.client()
    stranger.cookies.set(SESSION_COOKIE, old)
    assert stranger.get(f"{town.url}/api/v1/indicators").status_code == 401


def test_signing_out_ends_the_accounts_sessions_in_other_browsers_too(town):
    office, home = sign_in(town, MANAGER), sign_in(town, MANAGER)
    sign_out(town, office)
    assert not opens(town, cookie_of(home))


def test_the_cookie_holds_a_random_id_and_the_table_only_its_hash(town):
    manager = sign_in(town, MANAGER)
    cookie = cookie_of(manager)
    assert MANAGER not in base64.b64decode(cookie.split(".")[0] + "==").decode()
    raw = session_id(cookie)
    assert len(raw) >= 40
    with town.storage.read() as connection:
        assert sessions.find(connection, raw).username == MANAGER
        assert sessions.count(connection, MANAGER) == 1
    digest = hashlib.sha256(raw.encode()).hexdigest()
    assert stored_rows(town.storage, "sessions", "id_hash", "username") == [(digest, MANAGER)]


def test_a_cookie_signed_offline_naming_a_user_opens_nothing(town):
    # Even signed with the server's own secret, a cookie can only carry a session id, and only
    # a sign-in creates one.
    forged = session_cookie(town.settings, {"user": ADMIN})
    assert not opens(town, forged, "/admin/users")
    made_up = session_cookie(town.settings, {SESSION_ID: "a-guessed-session-id"})
    assert not opens(town, made_up, "/admin/users")


def test_signing_in_opens_a_new_session_whatever_cookie_the_browser_had(town):
    # Someone plants their own session cookie in a shared browser; the next person to sign in
    # there gets a session of their own, and the planted cookie never becomes theirs.
    planted = cookie_of(sign_in(town, ADMIN))
    shared = town.client()
    shared.cookies.set(SESSION_COOKIE, planted)
    token = form_token(shared.get(f"{town.url}/login").text)
    response = shared.post(
        f"{town.url}/login",
        data={"username": MANAGER, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    issued = response.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    assert session_id(issued) != session_id(planted)
    with town.storage.read() as connection:
        assert sessions.find(connection, session_id(planted)).username == ADMIN
        assert sessions.find(connection, session_id(issued)).username == MANAGER


def test_the_cookie_is_signed_with_hmac_sha256_not_starlettes_sha1(town):
    manager = sign_in(town, MANAGER)
    payload, _timestamp, signature = cookie_of(manager).split(".")
    assert len(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))) == 32
    # The very session signed with itsdangerous' default (HMAC-SHA1) opens nothing.
    sha1 = TimestampSigner(town.settings.secret_key).sign(payload.encode()).decode()
    assert not opens(town, sha1)
    assert opens(town, cookie_of(manager))


def test_a_password_reset_ends_the_accounts_open_sessions(town):
    admin, manager = sign_in(town, ADMIN), sign_in(town, MANAGER)
    old = cookie_of(manager)
    response = post(
        town, admin, "/admin/users/password", {"username": MANAGER, "password": NEW_PASSWORD}
    )
    assert response.status_code == 303
    assert not opens(town, old)
    # The new password signs in, to choose one's own first (the administrator chose it).
    assert opens(town, cookie_of(sign_in(town, MANAGER, NEW_PASSWORD)), "/account/password")


def test_a_role_change_ends_the_accounts_open_sessions(town):
    admin, manager = sign_in(town, ADMIN), sign_in(town, MANAGER)
    old = cookie_of(manager)
    post(
        town, admin, "/admin/users/access",
        {"username": MANAGER, "role": "service_manager", "services": ["iris"]},
    )  # fmt: skip
    assert not opens(town, old)


def test_an_unchanged_access_form_keeps_the_session(town):
    admin, manager = sign_in(town, ADMIN), sign_in(town, MANAGER)
    post(town, admin, "/admin/users/access", {"username": MANAGER, "role": "quality_manager"})
    assert opens(town, cookie_of(manager))


def test_enabling_a_disabled_account_again_revives_none_of_its_sessions(town):
    admin, manager = sign_in(town, ADMIN), sign_in(town, MANAGER)
    old = cookie_of(manager)
    assert post(town, admin, "/admin/users/disable", {"username": MANAGER}).status_code == 303
    assert post(town, admin, "/admin/users/enable", {"username": MANAGER}).status_code == 303
    assert not opens(town, old)
    with town.storage.read() as connection:
        assert sessions.count(connection, MANAGER) == 0


def test_a_session_idle_for_longer_than_the_timeout_ends(town):
    manager = sign_in(town, MANAGER)
    raw = session_id(cookie_of(manager))
    idle = timedelta(minutes=town.settings.session_idle_minutes)
    with town.storage.write() as connection:
        sessions.mark_seen(connection, raw, datetime.now(UTC) - idle + timedelta(minutes=1))
    assert opens(town, cookie_of(manager))  # a minute before the timeout: still open
    with town.storage.write() as connection:
        sessions.mark_seen(connection, raw, datetime.now(UTC) - idle - timedelta(seconds=1))
    assert not opens(town, cookie_of(manager))
    with town.storage.read() as connection:
        assert sessions.find(connection, raw) is None  # ended, not only refused


def test_a_session_in_use_ends_at_its_absolute_lifetime(town):
    lifetime = timedelta(hours=town.settings.session_lifetime_hours)
    with town.storage.write() as connection:
        raw = sessions.open_session(connection, MANAGER, datetime.now(UTC) - lifetime)
        sessions.mark_seen(connection, raw, datetime.now(UTC))  # busy until now
    assert not opens(town, session_cookie(town.settings, {SESSION_ID: raw}))


def test_a_use_is_noted_at_most_once_a_minute(town):
    manager = sign_in(town, MANAGER)
    raw = session_id(cookie_of(manager))
    with town.storage.read() as connection:
        first = sessions.find(connection, raw).last_seen_at
    manager.get(f"{town.url}/")
    with town.storage.read() as connection:
        assert sessions.find(connection, raw).last_seen_at == first  # within the minute
    earlier = datetime.now(UTC) - timedelta(minutes=2)
    with town.storage.write() as connection:
        sessions.mark_seen(connection, raw, earlier)
    manager.get(f"{town.url}/")
    with town.storage.read() as connection:
        assert sessions.find(connection, raw).last_seen_at > earlier + timedelta(minutes=1)


def test_the_rules_of_a_live_session():
    now = datetime(2026, 3, 2, 10, tzinfo=UTC)
    lifetime = sessions.Lifetime(idle=timedelta(minutes=30), absolute=timedelta(hours=12))

    def session(created_ago: timedelta, seen_ago: timedelta) -> sessions.Session:
        return sessions.Session("x", now - created_ago, now - seen_ago)

    assert sessions.is_live(session(timedelta(hours=1), timedelta(minutes=29)), now, lifetime)
    assert not sessions.is_live(session(timedelta(hours=1), timedelta(minutes=30)), now, lifetime)
    assert not sessions.is_live(session(timedelta(hours=12), timedelta(0)), now, lifetime)
    assert not sessions.seen_mark_due(session(timedelta(hours=1), timedelta(seconds=59)), now)
    assert sessions.seen_mark_due(session(timedelta(hours=1), timedelta(minutes=1)), now)


def test_csrf_protected_forms_still_work_in_a_server_side_session(town):
    admin = sign_in(town, ADMIN)
    response = post(
        town, admin, "/admin/users/create",
        {"username": "m.durand", "role": "admin", "password": NEW_PASSWORD},
        page="/admin/users",
    )  # fmt: skip
    assert response.status_code == 303
    forged = admin.post(
        f"{town.url}/admin/users/disable",
        data={"username": "m.durand", "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
