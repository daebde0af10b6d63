"""Staff at the dashboard, in-process: each signs in through the real form in a client of their
own, and posts forms with the CSRF token the page gave them."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from tests.fixtures.server import PASSWORD, AppServer
from tests.fixtures.web import form_token


def sign_in(server: AppServer, username: str, password: str = PASSWORD) -> TestClient:
    """A new client signed in as `username`; fails the test if the sign-in is refused."""
    session = server.client()
    response = _log_in(server, session, username, password)
    assert response.status_code == 303, response.text
    return session


def login_status(server: AppServer, username: str, password: str) -> int:
    """The status of a sign-in attempt from a new client (303: in)."""
    return _log_in(server, server.client(), username, password).status_code


def _log_in(server: AppServer, session: TestClient, username: str, password: str) -> Response:
    token = form_token(session.get(f"{server.url}/login").text)
    return session.post(
        f"{server.url}/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def post(
    server: AppServer, session: TestClient, action: str, data: dict[str, Any], page: str = "/fleet"
) -> Response:
    """Post a form as the page would: with the session's CSRF token read from `page`."""
    token = form_token(session.get(f"{server.url}{page}").text)
    return session.post(
        f"{server.url}{action}", data={**data, "csrf_token": token}, follow_redirects=False
    )


def change_own_password(
    server: AppServer, session: TestClient, current: str, new: str, confirm: str | None = None
) -> Response:
    """Post the own-password form (as one must after signing in with a password an
    administrator chose)."""
    return post(
        server, session, "/account/password",
        {"current_password": current, "new_password": new,
         "confirm_password": new if confirm is None else confirm},
        page="/account/password",
    )  # fmt: skip


def attempt(server: AppServer, username: str, password: str) -> Response:
    """One sign-in through the real form from a new client; the answer, not followed."""
    client = server.client()
    token = form_token(client.get(f"{server.url}/login").text)
    return client.post(
        f"{server.url}/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
