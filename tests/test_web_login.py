"""Dashboard sign-in: the real app on a temporary SQLite file, driven in-process."""

from __future__ import annotations

from tests.fixtures.web import MANAGER, form_token, log_in, web_client

__all__ = ["web_client"]  # a fixture, used by name below


def test_dashboard_redirects_to_login_when_logged_out(web_client):
    response = web_client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"


def test_login_page_is_french_by_default_with_a_csrf_field(web_client):
    page = web_client.get("/login")
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert "Mot de passe" in page.text
    assert form_token(page.text)


def test_login_page_in_english_on_request(web_client):
    page = web_client.get("/login?lang=en")
    assert '<html lang="en">' in page.text
    assert "Password" in page.text


def test_good_password_opens_the_dashboard(web_client):
    log_in(web_client)
    page = web_client.get("/")
    assert page.status_code == 200
    assert "Connecté·e : qualite" in page.text


def test_wrong_password_gives_a_clear_french_error_and_no_session(web_client):
    token = form_token(web_client.get("/login").text)
    response = web_client.post(
        "/login", data={"username": MANAGER[0], "password": "wrong", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "Identifiant ou mot de passe incorrect" in response.text
    assert web_client.get("/").status_code == 303


def test_unknown_user_gets_the_very_same_answer_as_a_wrong_password(web_client):
    token = form_token(web_client.get("/login").text)
    wrong_password = web_client.post(
        "/login", data={"username": MANAGER[0], "password": "nope", "csrf_token": token}
    )
    unknown_user = web_client.post(
        "/login", data={"username": "nobody", "password": "nope", "csrf_token": token}
    )
    assert unknown_user.status_code == wrong_password.status_code == 401
    # Same page apart from the echoed username: nothing says whether "nobody" exists.
    assert unknown_user.text.replace("nobody", MANAGER[0]) == wrong_password.text


def test_login_without_csrf_token_is_refused(web_client):
    web_client.get("/login")
    response = web_client.post("/login", data={"username": MANAGER[0], "password": MANAGER[1]})
    assert response.status_code == 403
    assert "Le formulaire a expiré" in response.text
    assert web_client.get("/").status_code == 303


def test_login_with_a_forged_csrf_token_is_refused(web_client):
    web_client.get("/login")
    response = web_client.post(
        "/login",
        data={"username": MANAGER[0], "password": MANAGER[1], "csrf_token": "forged"},
    )
    assert response.status_code == 403
    assert web_client.get("/").status_code == 303


def test_logout_needs_the_csrf_token_then_ends_the_session(web_client):
    log_in(web_client)
    refused = web_client.post("/logout", data={})
    assert refused.status_code == 403
    assert web_client.get("/").status_code == 200
    token = form_token(web_client.get("/").text)
    response = web_client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert "Vous êtes déconnecté·e" in web_client.get(response.headers["location"]).text
    assert web_client.get("/").status_code == 303


def test_next_only_redirects_within_the_site(web_client):
    token = form_token(web_client.get("/login").text)
    response = web_client.post(
        "/login",
        data={
            "username": MANAGER[0],
            "password": MANAGER[1],
            "csrf_token": token,
            "next": "//evil.example/",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_the_csrf_token_changes_at_login(web_client):
    before = form_token(web_client.get("/login").text)
    log_in(web_client)
    after = form_token(web_client.get("/").text)
    assert before != after
