"""The release of a flagged comment in Debian's headless Chromium against the live server, on a
390 px phone: the quality manager follows the overview's notice to the flagged comments, reads
the urgent one first with its reasons, releases it; the service manager, who read only the
placeholder, then reads it. The agents' names page fits a phone too. Both pass axe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from sync_server.storage import Source, uploads, users
from tests.fixtures.browser import SCREENS
from tests.fixtures.server import PASSWORD, SERVICE, SITE, add_user, answer_payload, make_record
from tests.tools.page_checks import axe_violations, no_horizontal_scroll

pytestmark = pytest.mark.browser

URGENT = "Ça sent le gaz dans le hall depuis ce matin, faites quelque chose vite"
PLAIN = "Accueil agréable, merci"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def triage_server(live_server):
    storage = live_server.storage
    with storage.write() as connection:
        users.create(connection, username="qualite", password=PASSWORD, role="quality_manager")
    add_user(storage, "chef-iris", "service_manager", [SERVICE])
    at = datetime.now(UTC) - timedelta(days=2)
    source = Source(site=SITE, service=SERVICE, channel="kiosk")
    for i, text in enumerate([URGENT, PLAIN]):
        record = make_record(answer_payload("dissatisfied", comment=text), at=at + timedelta(i))
        uploads.store_batch(storage, [record], source)
    return live_server


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()


def test_the_quality_manager_releases_a_flagged_comment_on_a_phone(browser, triage_server):
    url = triage_server.url
    chef_context = browser.new_context(viewport=PHONE, locale="fr-FR")
    chef = chef_context.new_page()
    sign_in(chef, url, "chef-iris")
    chef.goto(f"{url}/comments")
    expect(chef.locator(".comment-text.held")).to_have_text(
        "Commentaire en attente de relecture par le responsable qualité"
    )
    expect(chef.locator("main")).not_to_contain_text("gaz")

    context = browser.new_context(viewport=PHONE, locale="fr-FR", bypass_csp=True)
    page = context.new_page()
    sign_in(page, url, "qualite")
    notice = page.locator("[data-flagged]")
    expect(notice).to_contain_text("1 commentaire signalé à relire · dont 1 urgent")
    notice.get_by_role("link").click()
    expect(page).to_have_url(f"{url}/comments?flagged=pending")
    entry = page.locator("li.entry").first
    expect(entry).to_contain_text("Urgent : à lire en premier")
    expect(entry.locator("[data-triage]")).to_contain_text("Urgent (sent le gaz)")
    expect(entry.locator("mark.hit-urgent")).to_have_text("sent le gaz")
    assert no_horizontal_scroll(page)
    assert axe_violations(page) == []
    SCREENS.mkdir(parents=True, exist_ok=True)
    entry.screenshot(path=str(SCREENS / "dashboard-register-flagged.png"))
    entry_id = entry.get_attribute("id")
    entry.get_by_role("button", name="Communiquer (masqué)").click()
    expect(page.locator(f"#{entry_id}")).to_contain_text(
        "Communiqué aux responsables de service par qualite"
    )
    page.goto(f"{url}/")
    expect(page.locator("[data-flagged]")).to_have_count(0)

    chef.goto(f"{url}/comments")
    expect(chef.locator("main")).to_contain_text(URGENT)
    expect(chef.locator(".comment-text.held")).to_have_count(0)
    chef_context.close()

    page.goto(f"{url}/staff-names")
    page.get_by_label("Agents du service, un par ligne").first.fill("Marie Dubois\nKarim Benali")
    page.get_by_role("button", name="Enregistrer").first.click()
    expect(page.get_by_role("status")).to_have_text("Liste enregistrée.")
    assert no_horizontal_scroll(page)
    assert axe_violations(page) == []
    context.close()
