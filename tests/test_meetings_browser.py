"""The monthly Qualivilles meeting in a real browser (Debian's Chromium through Playwright) on the
live server with the demo data: on a phone-sized screen the quality manager plans the meeting,
reads its preparation since the last meeting, records the minutes and a decision that opens an
improvement action, and closes them; the page never scrolls sideways. Screenshot
docs/screens/meeting.png (the closed minutes, on a desktop screen)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from sync_server.storage import meetings
from tests.fixtures.browser import SCREENS
from tests.fixtures.server import PASSWORD
from tests.tools.page_checks import axe_violations, too_wide

pytestmark = pytest.mark.browser
TODAY = datetime.now(ZoneInfo("Europe/Paris")).date()


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()


def test_prepare_record_a_decision_that_opens_an_action_and_close(browser: Browser, demo_server):
    server, _data = demo_server
    last = TODAY - timedelta(days=28)
    with server.storage.write() as connection:
        previous = meetings.add(connection, last, by="qualite")
        meetings.save_minutes(connection, previous, last, "Mme Martin", "", by="qualite")
        meetings.close(connection, previous, by="qualite")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR",
                                is_mobile=True, has_touch=True, bypass_csp=True)  # fmt: skip
    page = phone.new_page()
    sign_in(page, server.url, "qualite")
    page.get_by_role("link", name="Réunions Qualivilles").click()
    expect(page).to_have_url(f"{server.url}/meetings")
    page.get_by_label("Date prévue").fill(TODAY.isoformat())
    page.get_by_role("button", name="Planifier la réunion").click()
    expect(page).to_have_url(re.compile(r"/meetings/\d+$"))
    window = page.locator("[data-window]")
    expect(window).to_have_attribute(
        "data-window", f"{last.isoformat()}..{(TODAY - timedelta(days=1)).isoformat()}"
    )
    expect(window).to_contain_text("dernière réunion tenue le")
    expect(page.locator("[data-desks] tbody tr").first).to_be_visible()
    assert too_wide(page) == []
    page.get_by_label("Date de la réunion").fill(TODAY.isoformat())
    page.get_by_label("Participants (un par ligne)").fill(
        "Mme Martin, responsable qualité\nM. Petit, IRIS"
    )
    page.get_by_label("Notes", exact=True).fill("Affluence du lundi matin à l'IRIS.")
    page.get_by_role("button", name="Enregistrer le compte rendu").click()
    expect(page.get_by_label("Notes", exact=True)).to_have_value(
        "Affluence du lundi matin à l'IRIS."
    )
    page.get_by_label("Décision", exact=True).fill("Ouvrir un second guichet le lundi matin")
    page.get_by_label("Service concerné").select_option("iris")
    page.get_by_label("Ouvrir une action d'amélioration").check()
    page.get_by_label("Pilote de l'action").fill("M. Petit")
    page.get_by_role("button", name="Enregistrer la décision").click()
    action_link = page.locator("[data-decision-action]")
    expect(action_link).to_have_count(1)
    assert too_wide(page) == []
    assert axe_violations(page) == []
    page.get_by_role("button", name="Clore le compte rendu").click()
    expect(page.locator("[data-closed]")).to_be_visible()
    expect(page.get_by_role("button", name="Enregistrer la décision")).to_have_count(0)
    expect(page.locator("[data-attendees] li")).to_have_count(2)
    assert too_wide(page) == []
    assert axe_violations(page) == []
    address = page.url
    action_link.click()
    expect(page).to_have_url(re.compile(r"/actions/\d+$"))
    expect(page.locator("main")).to_contain_text("Décision de réunion Qualivilles")
    phone.close()

    desktop = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = desktop.new_page()
    sign_in(page, server.url, "qualite")
    page.goto(address)
    expect(page.locator("[data-closed]")).to_be_visible()
    page.screenshot(path=str(SCREENS / "meeting.png"), full_page=True)
    desktop.close()
