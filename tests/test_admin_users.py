"""The accounts page on the real app in-process (temp SQLite): people sign in through the real
form and post the real forms with their CSRF token; every refusal changes nothing."""

from __future__ import annotations

import re

import pytest

from sync_server.storage import users
from sync_server.storage.users import MIN_PASSWORD_LENGTH
from tests.fixtures.server import PASSWORD, add_user
from tests.tools.page_text import text
from tests.tools.staff_forms import change_own_password, login_status, post, sign_in

ADMIN, MANAGER, CHEF = "informatique", "qualite", "chef-iris"


@pytest.fixture
def town(app_server):
    storage = app_server.storage
    add_user(storage, ADMIN, "admin")
    add_user(storage, MANAGER, "quality_manager")
    add_user(storage, CHEF, "service_manager", ["iris"])
    return app_server


def snapshot(server) -> list:
    with server.storage.read() as connection:
        return users.accounts(connection)


def test_admin_creates_a_service_manager_who_signs_in_and_sees_own_service(town):
    admin = sign_in(town, ADMIN)
    response = post(
        town,
        admin,
        "/admin/users/create",
        {
            "username": "m.dupont",
            "role": "service_manager",
            "services": ["etat-civil"],
            "password": "mot de passe initial",
        },
        page="/admin/users",
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/users?done=created&who=m.dupont"
    page = admin.get(f"{town.url}/admin/users").text
    assert 'data-user="m.dupont"' in page
    row = re.search(r'<tr data-user="m.dupont".*?</tr>', page, re.S).group(0)
    for shown in ("Responsable de service", "État civil", "Actif"):
        assert shown in row
    dupont = sign_in(town, "m.dupont", "mot de passe initial")
    own = "pelican bleu devant la gare du nord"
    assert change_own_password(town, dupont, "mot de passe initial", own).status_code == 303
    assert dupont.get(f"{town.url}/service/iris", follow_redirects=False).status_code == 403
    assert dupont.get(f"{town.url}/admin/users", follow_redirects=False).status_code == 403


def test_an_empty_password_is_generated_shown_once_and_works(town):
    admin = sign_in(town, ADMIN)
    response = post(
        town,
        admin,
        "/admin/users/create",
        {"username": "accueil2", "role": "quality_manager", "password": ""},
        page="/admin/users",
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    generated = re.search(r"<code class=\"secret\" data-password>([^<]+)</code>", response.text)
    assert generated is not None
    password = generated.group(1)
    assert len(password) >= MIN_PASSWORD_LENGTH
    assert login_status(town, "accueil2", password) == 303
    assert password not in admin.get(f"{town.url}/admin/users").text


BAD_CREATIONS = [
    ({"username": "", "role": "admin"}, 400, "Indiquez un identifiant."),
    ({"username": "jean dupont", "role": "admin"}, 400, "ne peut contenir que des lettres"),
    ({"username": "x1", "role": "superuser"}, 400, "Choisissez un rôle dans la liste."),
    (
        {"username": "x2", "role": "service_manager", "services": ["piscine"]},
        400,
        "Un des services choisis n'existe pas",
    ),
    ({"username": "x3", "role": "service_manager"}, 400, "doit avoir au moins un service"),
    (
        {"username": "x4", "role": "admin", "password": "court"},
        400,
        f"au moins {MIN_PASSWORD_LENGTH} caractères",
    ),
    ({"username": "Chef-Iris", "role": "admin"}, 409, "Le compte « chef-iris » existe déjà"),
]


@pytest.mark.parametrize(("fields", "status", "message"), BAD_CREATIONS)
def test_bad_input_gives_a_clear_error_and_creates_nothing(town, fields, status, message):
    admin = sign_in(town, ADMIN)
    before = snapshot(town)
    data = {"password": "un mot de passe correct", **fields}
    response = post(town, admin, "/admin/users/create", data, page="/admin/users")
    assert response.status_code == status
    assert message in text(response.text)
    assert "Rien n'a été modifié." in text(response.text)
    assert snapshot(town) == before
    # What was typed is kept in the form (never the password).
    if fields["username"]:
        assert f'value="{fields["username"]}"' in response.text
    assert data["password"] not in response.text


def test_a_role_or_services_change_ends_the_open_session_and_applies_at_next_sign_in(town):
    admin, chef = sign_in(town, ADMIN), sign_in(town, CHEF)
    assert chef.get(f"{town.url}/service/iris", follow_redirects=False).status_code == 200
    response = post(
        town,
        admin,
        "/admin/users/access",
        {"username": CHEF, "role": "service_manager", "services": ["etat-civil"]},
    )
    assert response.status_code == 303
    ended = chef.get(f"{town.url}/service/etat-civil", follow_redirects=False)
    assert (ended.status_code, ended.headers["location"][:6]) == (303, "/login")
    chef = sign_in(town, CHEF)
    assert chef.get(f"{town.url}/service/iris", follow_redirects=False).status_code == 403
    assert chef.get(f"{town.url}/service/etat-civil", follow_redirects=False).status_code == 200
    assert chef.get(f"{town.url}/targets", follow_redirects=False).status_code == 403
    post(town, admin, "/admin/users/access", {"username": CHEF, "role": "quality_manager"})
    assert chef.get(f"{town.url}/targets", follow_redirects=False).status_code == 303
    chef = sign_in(town, CHEF)
    assert chef.get(f"{town.url}/targets", follow_redirects=False).status_code == 200
    with town.storage.read() as connection:
        assert users.get(connection, CHEF).services == []  # a quality manager sees every service


def test_bad_access_change_is_refused_and_changes_nothing(town):
    admin = sign_in(town, ADMIN)
    before = snapshot(town)
    for data, message in [
        ({"role": "service_manager"}, "doit avoir au moins un service"),
        ({"role": "service_manager", "services": ["iris", "piscine"]}, "n'existe pas"),
        ({"role": "root"}, "Choisissez un rôle"),
    ]:
        response = post(town, admin, "/admin/users/access", {"username": CHEF, **data})
        assert response.status_code == 400
        assert message in text(response.text)
    assert snapshot(town) == before
    assert (
        post(
            town, admin, "/admin/users/access", {"username": "nobody", "role": "admin"}
        ).status_code
        == 404
    )


def test_password_reset(town):
    admin = sign_in(town, ADMIN)
    short = post(town, admin, "/admin/users/password", {"username": CHEF, "password": "court"})
    assert short.status_code == 400
    assert f"au moins {MIN_PASSWORD_LENGTH} caractères" in text(short.text)
    assert login_status(town, CHEF, PASSWORD) == 303  # unchanged
    done = post(
        town,
        admin,
        "/admin/users/password",
        {"username": CHEF, "password": "le nouveau mot de passe"},
    )
    assert done.status_code == 303
    assert login_status(town, CHEF, PASSWORD) == 401
    assert login_status(town, CHEF, "le nouveau mot de passe") == 303


def test_a_disabled_user_cannot_sign_in_and_its_open_session_ends(town):
    admin, chef = sign_in(town, ADMIN), sign_in(town, CHEF)
    assert chef.get(f"{town.url}/codes", follow_redirects=False).status_code == 403
    response = post(town, admin, "/admin/users/disable", {"username": CHEF})
    assert response.status_code == 303
    # The open session no longer finds its user: back to the sign-in page.
    ended = chef.get(f"{town.url}/codes", follow_redirects=False)
    assert ended.status_code == 303
    assert ended.headers["location"].startswith("/login")
    assert login_status(town, CHEF, PASSWORD) == 401
    row = re.search(
        rf'<tr data-user="{CHEF}".*?</tr>', admin.get(f"{town.url}/admin/users").text, re.S
    ).group(0)
    assert "Désactivé le" in row
    # The name stays taken while disabled.
    again = post(
        town,
        admin,
        "/admin/users/create",
        {"username": CHEF, "role": "admin", "password": PASSWORD},
        page="/admin/users",
    )
    assert again.status_code == 409
    assert post(town, admin, "/admin/users/enable", {"username": CHEF}).status_code == 303
    assert login_status(town, CHEF, PASSWORD) == 303


def test_the_last_active_admin_can_neither_disable_nor_demote_itself(town):
    admin = sign_in(town, ADMIN)
    for action, data in [
        ("/admin/users/disable", {"username": ADMIN}),
        ("/admin/users/access", {"username": ADMIN, "role": "quality_manager"}),
    ]:
        response = post(town, admin, action, data)
        assert response.status_code == 409
        assert "dernier compte administrateur actif" in text(response.text)
    with town.storage.read() as connection:
        assert users.get(connection, ADMIN).role == "admin"
    assert admin.get(f"{town.url}/admin/users", follow_redirects=False).status_code == 200
    # A disabled administrator does not count as a remaining one.
    post(
        town,
        admin,
        "/admin/users/create",
        {"username": "admin2", "role": "admin", "password": PASSWORD},
        page="/admin/users",
    )
    post(town, admin, "/admin/users/disable", {"username": "admin2"})
    assert post(town, admin, "/admin/users/disable", {"username": ADMIN}).status_code == 409
    # With another active administrator, it may step down.
    post(town, admin, "/admin/users/enable", {"username": "admin2"})
    stepped = post(
        town, admin, "/admin/users/access", {"username": ADMIN, "role": "quality_manager"}
    )
    assert stepped.status_code == 303
    with town.storage.read() as connection:
        assert users.get(connection, ADMIN).role == "quality_manager"


ADMIN_POSTS = [
    ("/admin/users/create", {"username": "intrus", "role": "admin", "password": PASSWORD}),
    ("/admin/users/access", {"username": ADMIN, "role": "service_manager", "services": ["iris"]}),
    ("/admin/users/password", {"username": ADMIN, "password": "pris par quelqu'un d'autre"}),
    ("/admin/users/disable", {"username": ADMIN}),
    ("/admin/users/enable", {"username": ADMIN}),
]


@pytest.mark.parametrize("who", [MANAGER, CHEF])
def test_other_roles_cannot_use_the_admin_forms(town, who):
    session = sign_in(town, who)
    before = snapshot(town)
    for action, data in ADMIN_POSTS:
        # The token comes from the refusal page's sign-out form: valid, but the wrong role.
        response = post(town, session, action, data, page="/admin/users/edit")
        assert response.status_code == 403, action
        assert "Action refusée" in response.text
    assert snapshot(town) == before
    assert login_status(town, ADMIN, PASSWORD) == 303  # password not changed


def test_the_quality_manager_reads_the_list_without_forms(town):
    manager = sign_in(town, MANAGER)
    page = manager.get(f"{town.url}/admin/users", follow_redirects=False)
    assert page.status_code == 200
    assert f'data-user="{CHEF}"' in page.text
    assert "Lecture seule" in page.text
    assert "/admin/users/create" not in page.text
    assert (
        manager.get(
            f"{town.url}/admin/users/edit?username={CHEF}", follow_redirects=False
        ).status_code
        == 403
    )
    chef = sign_in(town, CHEF)
    assert chef.get(f"{town.url}/admin/users", follow_redirects=False).status_code == 403


def test_admin_forms_need_the_csrf_token_and_a_session(town):
    admin = sign_in(town, ADMIN)
    before = snapshot(town)
    forged = admin.post(
        f"{town.url}/admin/users/create",
        follow_redirects=False,
        data={"username": "x9", "role": "admin", "password": PASSWORD, "csrf_token": "forged"},
    )
    assert forged.status_code == 403
    anonymous = town.client().post(
        f"{town.url}/admin/users/create",
        follow_redirects=False,
        data={"username": "x9", "role": "admin", "password": PASSWORD},
    )
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login")
    assert snapshot(town) == before


def test_the_menu_offers_the_admin_pages(town):
    admin = sign_in(town, ADMIN)
    nav = re.search(r'<nav class="mainnav".*?</nav>', admin.get(f"{town.url}/fleet").text, re.S)
    assert 'href="/admin/users"' in nav.group(0)
    assert 'href="/admin/surveys"' in nav.group(0)
    chef = sign_in(town, CHEF)
    nav = re.search(r'<nav class="mainnav".*?</nav>', chef.get(f"{town.url}/fleet").text, re.S)
    assert "/admin/" not in nav.group(0)
