"""One password policy for the accounts page and the command line: at least 12 characters and
hard to guess (zxcvbn's score ≥ 3, with the user name, the town's name and the product's words
as known words); user names are checked the same way on both; Argon2id with named parameters."""

from __future__ import annotations

import io
import sys

import pytest

from sync_server import cli
from sync_server.storage import Storage, migrations, users
from sync_server.storage.users import InvalidAccount, check_password, generate_password
from tests.fixtures.server import TOWN_FILE, AppServer, add_user
from tests.tools.page_text import text
from tests.tools.server_reads import stored_rows
from tests.tools.staff_forms import post, sign_in

TOWN_NAME = "Issy-les-Moulineaux"  # the demo town's name
GUESSABLE = [
    ("aaaaaaaaaaaa", []),  # accepted by the accounts page before this policy
    ("azertyuiop123", []),  # a keyboard walk
    ("motdepasse123456", []),
    ("Qualivilles2025!", []),  # the product's name
    ("Issy-les-Moulineaux2025", [TOWN_NAME]),
    ("chef-iris2025", ["chef-iris"]),  # the user's own name
]


@pytest.mark.parametrize(("password", "context"), GUESSABLE)
def test_guessable_passwords_are_refused(password, context):
    with pytest.raises(InvalidAccount) as refused:
        check_password(password, context)
    assert refused.value.code == "password_weak"


def test_a_phrase_and_generated_passwords_are_accepted():
    check_password("les rosiers du parc fleurissent en mai", ["chef-iris", TOWN_NAME])
    for _ in range(20):
        check_password(generate_password(), ["chef-iris", TOWN_NAME])


def test_length_is_checked_before_guessability():
    with pytest.raises(InvalidAccount, match="password_short"):
        check_password("Xq7#pL2!vR9")  # 11 characters, random
    with pytest.raises(InvalidAccount, match="password_long"):
        check_password("x" * 201)


def test_passwords_are_hashed_with_argon2id_and_the_documented_parameters(server_storage):
    add_user(server_storage, "qualite")
    [(stored,)] = stored_rows(server_storage, "users", "password_hash")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


# -- the accounts page ----------------------------------------------------------------------


@pytest.fixture
def town(app_server: AppServer) -> AppServer:
    add_user(app_server.storage, "informatique", "admin")
    return app_server


def test_the_accounts_page_refuses_a_guessable_password_with_a_french_message(town):
    admin = sign_in(town, "informatique")
    for action, data in [
        ("/admin/users/create", {"username": "m.durand", "role": "admin"}),
        ("/admin/users/password", {"username": "informatique"}),
    ]:
        response = post(
            town, admin, action, {**data, "password": "aaaaaaaaaaaa"}, page="/admin/users"
        )
        assert response.status_code == 400, action
        assert "trop facile à deviner" in text(response.text)
    with town.storage.read() as connection:
        assert users.account(connection, "m.durand") is None


def test_the_accounts_page_refuses_the_towns_name_as_a_password(town):
    admin = sign_in(town, "informatique")
    response = post(
        town, admin, "/admin/users/password",
        {"username": "informatique", "password": "issy-les-moulineaux"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "trop facile à deviner" in text(response.text)


# -- the command line -----------------------------------------------------------------------


@pytest.fixture
def db_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert cli.main(["--database-url", url, "load-town", str(TOWN_FILE)], out=io.StringIO()) == 0
    return url


def create_user(db_url: str, monkeypatch, username: str, password: str) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    argv = ["--database-url", db_url, "create-user", "--username", username, "--role", "admin"]
    return cli.main([*argv, "--password-stdin"], out=io.StringIO())


def accounts_in(db_url: str) -> list[str]:
    storage = Storage.from_url(db_url)
    migrations.upgrade(storage)
    with storage.read() as connection:
        names = [account.username for account in users.accounts(connection)]
    storage.close()
    return names


@pytest.mark.parametrize(
    "case",
    [
        ("informatique", "aaaaaaaaaaaa", "too easy to guess"),
        ("informatique", "xK9#mQ2v", "at least 12 characters"),
        ("informatique", "Issy-les-Moulineaux", "too easy to guess"),
        ("<b>admin</b>", "les rosiers du parc fleurissent", "a user name holds only"),
        ("", "les rosiers du parc fleurissent", "the user name is empty"),
    ],
)
def test_the_command_line_applies_the_same_rules(db_url, monkeypatch, capsys, case):
    username, password, said = case
    assert create_user(db_url, monkeypatch, username, password) == 1
    assert said in capsys.readouterr().err
    assert accounts_in(db_url) == []


def test_the_command_line_refuses_a_name_differing_only_in_case(db_url, monkeypatch, capsys):
    assert create_user(db_url, monkeypatch, "Informatique", "les rosiers du parc fleurissent") == 0
    assert create_user(db_url, monkeypatch, "informatique", "les rosiers du parc fleurissent") == 1
    assert accounts_in(db_url) == ["Informatique"]
