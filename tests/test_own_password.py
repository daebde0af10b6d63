"""Every user changes their own password, with the current one; a password an administrator
chose (a new account's, a reset) opens nothing but that page until its owner has replaced it.
The real app in-process (temp SQLite), people using the real forms."""

from __future__ import annotations

import io
import sys

import pytest

from sync_server import cli
from sync_server.session_cookie import SESSION_COOKIE
from sync_server.storage import Storage, users
from tests.fixtures.server import PASSWORD, AppServer, add_user
from tests.fixtures.web import form_token
from tests.tools.staff_forms import change_own_password, login_status, post, sign_in

ADMIN, MANAGER, NEWCOMER = "informatique", "qualite", "nouvelle.recrue"
OWN = "girafe violette sous la pluie de mars"
CHOSEN_BY_ADMIN = "provisoire tambour orange quarante"
PAGE = "/account/password"


@pytest.fixture
def town(app_server: AppServer) -> AppServer:
    add_user(app_server.storage, ADMIN, "admin")
    add_user(app_server.storage, MANAGER, "quality_manager")
    return app_server


def opens(server: AppServer, client, path: str = "/") -> bool:
    return client.get(f"{server.url}{path}", follow_redirects=False).status_code == 200


def test_a_user_replaces_their_password_with_the_current_one(town):
    office, home = sign_in(town, MANAGER), sign_in(town, MANAGER)
    response = change_own_password(town, office, PASSWORD, OWN)
    assert response.status_code == 303
    assert response.headers["location"] == f"{PAGE}?done=1"
    assert login_status(town, MANAGER, PASSWORD) == 401
    assert login_status(town, MANAGER, OWN) == 303
    # The browser that made the change goes on; the other one is signed out.
    assert opens(town, office)
    assert not opens(town, home)


@pytest.mark.parametrize(
    ("current", "new", "confirm", "error"),
    [
        ("pas le bon mot de passe du tout", OWN, None, "Le mot de passe actuel est incorrect"),
        (PASSWORD, OWN, OWN + " ", "Les deux saisies du nouveau mot de passe diffèrent"),
        (PASSWORD, PASSWORD, None, "doit être différent de l'actuel"),
        (PASSWORD, "aaaaaaaaaaaaaaaa", None, "trop facile à deviner"),
        (PASSWORD, "qualite2026!", None, "trop facile à deviner"),
        (PASSWORD, "court", None, "au moins 12 caractères"),
        (PASSWORD, "x" * 201, None, "200 caractères"),
    ],
)
def test_a_refused_change_says_why_and_changes_nothing(town, current, new, confirm, error):
    manager = sign_in(town, MANAGER)
    response = change_own_password(town, manager, current, new, confirm)
    assert response.status_code == 400
    assert error in response.text
    assert login_status(town, MANAGER, PASSWORD) == 303


def test_guessing_the_current_password_on_this_form_counts_as_failed_sign_ins(town):
    manager = sign_in(town, MANAGER)
    for attempt in range(5):
        guess = change_own_password(town, manager, f"devinette numero {attempt}", OWN)
        assert guess.status_code == 400
    # Locked like the login page, even for the right current password.
    assert change_own_password(town, manager, PASSWORD, OWN).status_code == 429
    assert login_status(town, MANAGER, PASSWORD) == 429


def test_the_form_needs_the_sessions_csrf_token_and_a_signed_in_user(town):
    manager = sign_in(town, MANAGER)
    forged = manager.post(
        f"{town.url}{PAGE}",
        data={"csrf_token": "forged", "current_password": PASSWORD, "new_password": OWN,
              "confirm_password": OWN},
        follow_redirects=False,
    )  # fmt: skip
    assert forged.status_code == 403
    assert login_status(town, MANAGER, PASSWORD) == 303
    stranger = town.client().get(f"{town.url}{PAGE}", follow_redirects=False)
    assert stranger.status_code == 303
    assert stranger.headers["location"].startswith("/login")


def test_an_account_the_administrator_created_must_choose_its_own_password(town):
    admin = sign_in(town, ADMIN)
    created = post(
        town, admin, "/admin/users/create",
        {"username": NEWCOMER, "role": "quality_manager", "password": CHOSEN_BY_ADMIN},
        page="/admin/users",
    )  # fmt: skip
    assert created.status_code == 303
    newcomer = sign_in(town, NEWCOMER, CHOSEN_BY_ADMIN)
    for path in ["/", "/comments", "/targets", "/fleet", "/account/tokens", "/export/answers.csv"]:
        response = newcomer.get(f"{town.url}{path}", follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == PAGE
    page = newcomer.get(f"{town.url}{PAGE}")
    assert "choisi par un administrateur" in page.text
    api = newcomer.get(f"{town.url}/api/v1/indicators")
    assert api.status_code == 403
    assert api.json()["code"] == "password_change_required"
    # No form posts in the meantime either.
    refused = post(town, newcomer, "/targets", {"rate": "85"}, page=PAGE)
    assert refused.status_code == 303
    assert refused.headers["location"] == PAGE

    assert change_own_password(town, newcomer, CHOSEN_BY_ADMIN, OWN).status_code == 303
    assert opens(town, newcomer)
    assert "choisi par un administrateur" not in newcomer.get(f"{town.url}{PAGE}").text


def test_a_password_the_administrator_reset_is_temporary_too(town):
    admin = sign_in(town, ADMIN)
    reset = post(
        town, admin, "/admin/users/password", {"username": MANAGER, "password": CHOSEN_BY_ADMIN},
        page="/admin/users",
    )  # fmt: skip
    assert reset.status_code == 303
    manager = sign_in(town, MANAGER, CHOSEN_BY_ADMIN)
    assert manager.get(f"{town.url}/", follow_redirects=False).headers["location"] == PAGE
    with town.storage.read() as connection:
        assert users.account(connection, MANAGER).must_change_password


def test_the_command_line_account_is_its_owners_own(tmp_path, monkeypatch):
    # The first administrator is made on the server by the person who will use it.
    db_url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setattr(sys, "stdin", io.StringIO(OWN + "\n"))
    argv = ["--database-url", db_url, "create-user", "--username", ADMIN, "--role", "admin"]
    assert cli.main([*argv, "--password-stdin"], out=io.StringIO()) == 0
    storage = Storage.from_url(db_url)
    with storage.read() as connection:
        assert not users.account(connection, ADMIN).must_change_password
    storage.close()


def test_signing_out_tells_the_browser_to_forget_the_site(town):
    manager = sign_in(town, MANAGER)
    token = form_token(manager.get(f"{town.url}/").text)
    response = manager.post(
        f"{town.url}/logout", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    directives = {part.strip() for part in response.headers["clear-site-data"].split(",")}
    assert directives == {'"cache"', '"cookies"', '"storage"'}
    assert SESSION_COOKIE not in manager.cookies or not opens(town, manager)
