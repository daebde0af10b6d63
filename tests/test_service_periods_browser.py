"""The service page's period picker in a real browser (Debian's Chromium through Playwright), on
the live server filled with the seeded demo data: a survey campaign typed into the two date
fields, the figure read against the rate counted from the raw records, and the quality manager's
menu on one line at 1280 px. Screenshot: docs/screens/dashboard-service-campaign.png.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from sync_server.indicators.periods import add_months
from tests.fixtures.browser import SCREENS, log_in
from tests.fixtures.server import SERVICE, SITE
from tests.tools.demo_counts import expected_rate

pytestmark = pytest.mark.browser
PARIS = ZoneInfo("Europe/Paris")


def test_a_campaign_on_the_service_page(browser, demo_server):
    """From the 10th of two months ago to the 20th of last month, typed on IRIS's page."""
    server, data = demo_server
    month = add_months(datetime.now(PARIS).date().replace(day=1), -2)
    first, last = month.replace(day=10), add_months(month, 1).replace(day=20)
    satisfied, expressed = expected_rate(data, SITE, SERVICE, first, last)
    assert expressed >= 5
    shown = f"{100 * satisfied / expressed:.1f}".replace(".", ",")

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    log_in(page, server.url)
    page.goto(f"{server.url}/service/{SERVICE}")
    # The quality manager's whole menu, from the overview to the audit trail, stands on two lines
    # at most at 1280 px.
    links = page.locator("nav.mainnav a").all()
    tops = {round(a.bounding_box()["y"]) for a in links}
    assert [a.inner_text() for a in (links[0], links[-1])] == ["Vue d'ensemble", "Journal"]
    assert len(tops) <= 2, tops

    page.get_by_label("Période", exact=True).select_option("campaign")
    expect(page.get_by_label("Laquelle")).to_be_hidden()
    page.get_by_label("Du", exact=True).fill(first.isoformat())
    page.get_by_label("Au (inclus)").fill(last.isoformat())
    with page.expect_navigation():
        page.get_by_role("button", name="Afficher").click()
    expect(page).to_have_url(
        re.compile(rf"/service/{SERVICE}\?kind=campaign.*from={first}&to={last}")
    )
    panel = page.locator(f'section.panel[data-site="{SITE}"]')
    rate = panel.locator('tr[data-figure="satisfaction_rate"] td').first
    expect(rate).to_have_text(re.compile(rf"^{shown}\u202f%\s*Intervalle de confiance à 95 %"))
    expect(page.locator("h1")).to_contain_text(f"{first.day} ")
    expect(page.get_by_label("Au (inclus)")).to_have_value(last.isoformat())
    expect(page.get_by_role("alert")).to_have_count(0)
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "dashboard-service-campaign.png"))

    # The end before the start: said on the page, the suspect switch kept, the default shown.
    page.get_by_label("Inclure les appuis suspects").check()
    page.get_by_label("Du", exact=True).fill(last.isoformat())
    page.get_by_label("Au (inclus)").fill(first.isoformat())
    with page.expect_navigation():
        page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_role("alert")).to_contain_text("se termine avant de commencer")
    expect(page.get_by_role("alert")).to_contain_text("Période affichée à la place")
    expect(page.get_by_label("Inclure les appuis suspects")).to_be_checked()
    context.close()
