"""The demo's year of quality work in a real browser (Debian's Chromium through Playwright): the
overview a quality manager lands on after login shows where the cycle stands, on a desk screen and
on a phone, and each of its links opens the list behind it. Screenshot
docs/screens/cycle-overview.png."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, expect

from qualivilles.bundled import DEMO_TOWN_FILE
from sync_server.demo.cycle import seed_cycle
from sync_server.web.figures import today
from tests.fixtures.browser import SCREENS, log_in
from tests.tools.page_checks import axe_violations, too_wide

pytestmark = pytest.mark.browser


@pytest.fixture
def cycle_server(demo_server):
    server, _data = demo_server
    team = json.loads(DEMO_TOWN_FILE.read_text(encoding="utf-8"))["demo"]["team"]
    with server.storage.write() as connection:
        seed_cycle(connection, team, datetime.now(UTC), today(server.settings), seed=7)
    return server


def test_the_overview_opens_on_the_quality_cycle(browser: Browser, cycle_server):
    server = cycle_server
    desk = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="fr-FR", bypass_csp=True
    )
    page = desk.new_page()
    log_in(page, server.url)
    panel = page.get_by_role("region", name="Le cycle qualité")
    expect(panel).to_be_visible()
    expect(panel.locator("[data-cycle=overdue]")).to_contain_text("1 action en retard")
    expect(panel.locator("[data-cycle=next-audit]")).to_contain_text("Prochain audit interne")
    assert axe_violations(page) == []
    page.screenshot(path=str(SCREENS / "cycle-overview.png"))
    panel.get_by_role("link", name="proposées à valider").click()
    expect(page).to_have_url(f"{server.url}/actions?status=proposed")
    expect(page.locator("main")).to_contain_text("Signalétique vers les trois médiathèques")
    page.go_back()
    page.get_by_role("region", name="Le cycle qualité").locator("[data-cycle=next-audit] a").click()
    expect(page.locator("h1")).to_contain_text("Audit n°")
    expect(page.locator("main")).to_contain_text("CLAVIM")
    desk.close()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR",
                                is_mobile=True, has_touch=True)  # fmt: skip
    small = phone.new_page()
    log_in(small, server.url)
    expect(small.get_by_role("region", name="Le cycle qualité")).to_be_visible()
    assert too_wide(small) == []
    phone.close()
