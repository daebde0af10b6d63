"""The personal API tokens page in a real browser (Debian's Chromium through Playwright) on the
live server: the quality manager follows the menu link, creates a token, reads it once and the
token works; screenshot docs/screens/api-tokens.png."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from playwright.sync_api import expect

from sync_server.storage import api_tokens
from tests.fixtures.browser import SCREENS
from tests.fixtures.server import PASSWORD, add_user, bearer

pytestmark = pytest.mark.browser


def test_a_quality_manager_creates_a_token_and_copies_it_once(browser, live_server):
    server = live_server
    add_user(server.storage, "qualite", "quality_manager")
    # Two tokens from before: one in use by Metabase, one revoked when its workbook retired.
    now = datetime.now(UTC)
    with server.storage.write() as connection:
        api_tokens.create(
            connection, username="qualite", label="Excel 2025", now=now - timedelta(90)
        )
        older = api_tokens.create(
            connection, username="qualite", label="Metabase", now=now - timedelta(40)
        )
        api_tokens.mark_used(connection, older.token.id, now - timedelta(hours=3))
        [excel] = [t for t in api_tokens.of_user(connection, "qualite") if t.label == "Excel 2025"]
        api_tokens.revoke(connection, "qualite", excel.id, now - timedelta(30))

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.get_by_label("Identifiant").fill("qualite")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Jetons d'API").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes jetons d'API")
    page.get_by_label("Nom du jeton").fill("Power BI qualité")
    with page.expect_navigation():
        page.get_by_role("button", name="Créer le jeton").click()
    expect(page.get_by_role("status").first).to_contain_text("Jeton « Power BI qualité » créé.")
    secret = page.locator("[data-secret]").inner_text()
    assert secret.startswith("qvt_")
    expect(page.locator("tbody tr")).to_have_count(3)
    page.screenshot(path=str(SCREENS / "api-tokens.png"), full_page=True)

    response = requests.get(f"{server.url}/api/v1/indicators", headers=bearer(secret), timeout=10)
    assert response.status_code == 200
    page.goto(f"{server.url}/account/tokens")
    expect(page.locator("[data-secret]")).to_have_count(0)
    expect(page.locator("tbody tr").first).not_to_contain_text("jamais")  # just used
    context.close()
