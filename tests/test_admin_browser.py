"""The administrator's pages in a real browser (Debian's Chromium through Playwright) on the live
server: sign in as admin, create an account with a generated password, publish a survey version
from a file, lift a sign-in lock-out; screenshots docs/screens/admin-users.png,
docs/screens/admin-surveys.png and docs/screens/admin-user-locked.png."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from qualivilles.bundled import load_default_survey
from sync_server.storage import login_failures, surveys, users
from sync_server.storage.surveys import definition_json
from tests.fixtures.browser import SCREENS
from tests.fixtures.server import PASSWORD, add_user

pytestmark = pytest.mark.browser


@pytest.fixture
def admin_server(live_server):
    storage = live_server.storage
    add_user(storage, "informatique", "admin")
    add_user(storage, "qualite", "quality_manager")
    add_user(storage, "chef-iris", "service_manager", ["iris"])
    return live_server


def signed_in_admin(browser, server) -> tuple[BrowserContext, Page]:
    """A browser window of the administrator ("informatique"), signed in through the form."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.get_by_label("Identifiant").fill("informatique")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()
    return context, page


def test_admin_creates_an_account_and_publishes_a_survey(browser, admin_server, tmp_path):
    server = admin_server
    context, page = signed_in_admin(browser, server)
    menu = page.locator("nav.mainnav a").all_inner_texts()
    assert {"Appareils", "Questionnaires", "Comptes"} <= set(menu)

    with page.expect_navigation():
        page.get_by_role("link", name="Comptes", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Comptes des utilisateurs")
    page.get_by_label("Identifiant").fill("m.dupont")
    page.get_by_label("Rôle").select_option("service_manager")
    page.get_by_label("État civil").check()
    page.get_by_label("Médiathèques").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Créer le compte").click()
    expect(page.get_by_role("status").first).to_contain_text("Compte « m.dupont » créé.")
    password = page.locator("[data-password]").inner_text()
    assert len(password) >= 12
    row = page.locator('tr[data-user="m.dupont"]')
    expect(row).to_contain_text("Responsable de service")
    expect(row).to_contain_text("État civil, Médiathèques")
    page.screenshot(path=str(SCREENS / "admin-users.png"), full_page=True)
    with server.storage.read() as connection:
        assert users.authenticate(connection, "m.dupont", password) is not None

    definition = tmp_path / "accueil-ville.v1.json"
    data = definition_json(load_default_survey())
    definition.write_text(json.dumps({**data, "id": "accueil-ville", "version": 1}), "utf-8")
    with page.expect_navigation():
        page.get_by_role("link", name="Questionnaires", exact=True).click()
    page.get_by_label("Fichier de définition (JSON)").set_input_files(str(definition))
    with page.expect_navigation():
        page.get_by_role("button", name="Publier et mettre en cours").click()
    expect(page.get_by_role("status").first).to_contain_text("Version accueil-ville v1 publiée")
    current = page.locator("tr.is-current")
    expect(current).to_have_count(1)
    expect(current).to_have_attribute("data-survey", "accueil-ville")
    page.screenshot(path=str(SCREENS / "admin-surveys.png"), full_page=True)
    with server.storage.read() as connection:
        assert surveys.current(connection).id == "accueil-ville"
    context.close()


def test_admin_unlocks_a_locked_sign_in(browser, admin_server):
    server = admin_server
    now = datetime.now(UTC)
    with server.storage.write() as connection:
        for seconds in range(5, 0, -1):
            at = now - timedelta(seconds=seconds)
            login_failures.record(connection, "qualite", "192.0.2.8", at, timedelta(hours=1))
    context, page = signed_in_admin(browser, server)
    page.goto(f"{server.url}/admin/users/edit?username=qualite")
    locked = page.locator("[data-locked]")
    expect(locked).to_contain_text("la connexion est bloquée jusqu'à")
    locked.screenshot(path=str(SCREENS / "admin-user-locked.png"))
    with page.expect_navigation():
        page.get_by_role("button", name="Débloquer la connexion").click()
    expect(page.get_by_role("status").first).to_contain_text("Connexion débloquée")
    expect(page.locator("[data-locked]")).to_have_count(0)
    with server.storage.read() as connection:
        assert login_failures.of_account(connection, "qualite", now - timedelta(hours=1)) == []
    context.close()
