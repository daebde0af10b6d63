"""A new account's first sign-in in a real browser (Debian's Chromium through Playwright) on the
live server: the password the administrator chose leads to the own-password page, whatever
address was asked for; once replaced, the dashboard opens. Screenshot
docs/screens/own-password.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from sync_server.storage import users
from tests.fixtures.browser import SCREENS

pytestmark = pytest.mark.browser

CHOSEN_BY_ADMIN = "bleu-tambour-orage-42"
OWN = "le heron gris attend sous le pont neuf"


def test_a_new_account_chooses_its_own_password_at_the_first_sign_in(browser, live_server):
    with live_server.storage.write() as connection:
        users.create_account(
            connection, username="m.martin", password=CHOSEN_BY_ADMIN,
            role="quality_manager", services=[], temporary=True,
        )  # fmt: skip
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{live_server.url}/comments")
    page.get_by_label("Identifiant").fill("m.martin")
    page.get_by_label("Mot de passe").fill(CHOSEN_BY_ADMIN)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(f"{live_server.url}/account/password")
    expect(page.get_by_role("status")).to_contain_text("choisi par un administrateur")
    expect(page.get_by_role("link", name="Commentaires")).to_have_count(0)
    page.screenshot(path=str(SCREENS / "own-password.png"), full_page=True)

    page.get_by_label("Mot de passe actuel").fill(CHOSEN_BY_ADMIN)
    page.get_by_label("Nouveau mot de passe", exact=True).fill(OWN)
    page.get_by_label("Nouveau mot de passe, une seconde fois").fill(OWN)
    page.get_by_role("button", name="Changer mon mot de passe").click()
    expect(page).to_have_url(f"{live_server.url}/account/password?done=1")
    expect(page.get_by_role("status")).to_contain_text("Mot de passe changé")
    page.get_by_role("link", name="Commentaires").click()
    expect(page).to_have_url(f"{live_server.url}/comments")
    context.close()
