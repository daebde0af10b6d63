"""Mystery visits and calls in a real browser (Debian's Chromium through Playwright) on the live
server with the demo data: on a phone-sized screen the quality manager starts a telephone
evaluation, taps the answers, saves it and reads its score. Screenshots
docs/screens/mystery-form.png and mystery.png."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.fixtures.browser import SCREENS
from tests.fixtures.server import PASSWORD
from tests.tools.page_checks import axe_violations, too_wide

pytestmark = pytest.mark.browser


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()


def test_a_telephone_evaluation_entered_on_a_phone_reads_with_its_score(
    browser: Browser, demo_server
):
    server, _data = demo_server
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR",
                                is_mobile=True, has_touch=True, bypass_csp=True)  # fmt: skip
    page = phone.new_page()
    sign_in(page, server.url, "qualite")
    page.get_by_role("link", name="Évaluations mystères").click()
    expect(page).to_have_url(f"{server.url}/mystery")
    page.get_by_role("button", name="Téléphone").click()
    expect(page).to_have_url(f"{server.url}/mystery/new?channel=phone")
    page.get_by_label("Service", exact=True).select_option("etat-civil")
    page.get_by_label("Site", exact=True).select_option("hotel-de-ville")
    page.get_by_label("Évaluateur (vide : vous)").fill("Cabinet Regard")
    pickup = page.get_by_role("group", name=re.compile("Délai avant décroché"))
    pickup.get_by_text("3", exact=True).tap()
    greets = page.get_by_role("group", name=re.compile("annonce la mairie"))
    greets.get_by_text("Oui", exact=True).tap()
    right = page.get_by_role("group", name=re.compile("bonne personne"))
    right.get_by_text("Non", exact=True).tap()
    # Each answer is a big target, the page no wider than the phone.
    box = greets.get_by_text("Oui", exact=True).bounding_box()
    assert box is not None
    assert box["height"] >= 44
    assert too_wide(page) == []
    assert axe_violations(page) == []
    page.screenshot(path=str(SCREENS / "mystery-form.png"), full_page=True)
    page.get_by_role("button", name="Enregistrer l'évaluation").click()
    expect(page).to_have_url(re.compile(r"/mystery/\d+$"))
    # Pickup 3 of 4 (weight 2) = 66.7, announces yes (1) = 100, right person no (2) = 0,
    # clarity not observed: (133.3 + 100 + 0) / 5.
    expect(page.locator(".mystery-score")).to_have_text(re.compile(r"Score : 46,7\s*%"))
    assert too_wide(page) == []
    month = datetime.now(ZoneInfo("Europe/Paris")).strftime("%Y-%m")  # the evaluation's: today
    page.goto(f"{server.url}/mystery?kind=month&period={month}&channel=phone")
    expect(page.locator("[data-evaluation]")).to_have_count(1)
    page.screenshot(path=str(SCREENS / "mystery.png"), full_page=True)
