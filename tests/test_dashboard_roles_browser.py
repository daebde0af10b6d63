"""Each role in a real browser (Debian's Chromium) on the live server filled with demo data:
what the menu offers, what each page shows, and a screenshot of every page in docs/screens/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from sync_server.storage import users
from tests.fixtures.browser import SCREENS
from tests.fixtures.server import PASSWORD, SERVICE

pytestmark = pytest.mark.browser
OTHER = "etat-civil"


@pytest.fixture
def town_server(demo_server):
    server, _data = demo_server  # the demo data, and "qualite" its quality manager
    with server.storage.write() as connection:
        users.create(
            connection,
            username="chef-iris",
            password=PASSWORD,
            role="service_manager",
            services=[SERVICE],
        )
        users.create(connection, username="informatique", password=PASSWORD, role="admin")
    return server


def sign_in(browser, url, username):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{url}/login")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    # Wait for the page after the login redirect before anyone looks at it.
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()
    return context, page


def menu(page) -> list[str]:
    return page.locator("nav.mainnav a").all_inner_texts()


def shot(page, name: str, *, full_page: bool = True) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"dashboard-{name}.png"), full_page=full_page)


def test_quality_manager_sees_every_page(browser, town_server):
    context, page = sign_in(browser, town_server.url, "qualite")
    expect(page).to_have_url(f"{town_server.url}/")
    assert menu(page)[:10] == ["Vue d'ensemble", "Commentaires", "Bilan annuel", "Plan d'actions",
                               "Évaluations mystères", "Référentiel", "Réunions Qualivilles",
                               "Audits internes", "Objectifs", "Appareils"]  # fmt: skip
    expect(page.locator("li.card").first).to_be_visible()
    shot(page, "overview")
    page.locator(f'li.card[data-service="{SERVICE}"] .card-link a').first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("IRIS")
    expect(page.locator('svg[role="img"]').first).to_be_visible()
    expect(page.get_by_role("table").first).to_be_visible()
    shot(page, "service")
    page.get_by_role("link", name="Commentaires", exact=True).click()
    expect(page.locator("li.entry").first).to_be_visible()
    shot(page, "comments", full_page=False)  # a hundred entries: the first screen says it all
    page.get_by_role("link", name="Bilan annuel", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bilan annuel")
    shot(page, "review")
    page.get_by_role("link", name="Objectifs", exact=True).click()
    page.get_by_label("Objectif", exact=True).fill("92")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("table.data tbody tr").first).to_contain_text("92")
    shot(page, "targets")
    page.get_by_role("link", name="Appareils", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bornes et tablettes")
    shot(page, "fleet")
    context.close()


def test_service_manager_sees_only_their_service(browser, town_server):
    context, page = sign_in(browser, town_server.url, "chef-iris")
    assert menu(page) == ["Vue d'ensemble", "Commentaires", "Bilan annuel", "Plan d'actions",
                          "Évaluations mystères", "Réunions Qualivilles",
                          "Audits internes"]  # fmt: skip
    cards = page.locator("li.card")
    expect(cards).not_to_have_count(0)
    assert set(cards.evaluate_all("els => els.map(e => e.dataset.service)")) == {SERVICE}
    services = page.goto(f"{town_server.url}/comments")
    assert services.status == 200
    assert set(page.locator("li.entry").evaluate_all(
        "els => els.map(e => e.dataset.service)")) <= {SERVICE}  # fmt: skip
    denied = page.goto(f"{town_server.url}/service/{OTHER}")
    assert denied.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Action refusée")
    shot(page, "service-manager-denied")
    context.close()


def test_admin_sees_the_fleet_only(browser, town_server):
    context, page = sign_in(browser, town_server.url, "informatique")
    expect(page).to_have_url(f"{town_server.url}/fleet")
    assert "Appareils" in menu(page)
    assert not {"Vue d'ensemble", "Commentaires", "Bilan annuel", "Objectifs"} & set(menu(page))
    assert page.goto(f"{town_server.url}/comments").status == 403
    context.close()
