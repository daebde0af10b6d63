"""The pages in a real browser (Debian's Chromium through Playwright) against the live server.

The demo generator fills the server through the real ingestion path; the expected satisfaction
rate is then counted straight from the generated records (tests/tools/demo_counts.py),
independently of the indicator code, and must be what the quality manager reads on the page.
Screenshots go to docs/screens/; the phone survey's browser tests are in test_phone_browser.py.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from qualivilles.protocol import RecordKind
from sync_server.demo.data import DemoData
from sync_server.indicators.periods import add_months
from tests.fixtures.browser import SCREENS, log_in
from tests.fixtures.server import SERVICE, SITE, TOWN
from tests.tools.demo_counts import expected_rate

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")


def answers_in(data: DemoData, month) -> int:
    """Every non-suspect answer to the main question at the desk in `month`, no opinion included."""
    count = 0
    for batch in data.batches:
        if (batch.site, batch.service) != (SITE, SERVICE):
            continue
        for record in batch.records:
            local = record.device_time.astimezone(PARIS)
            if record.kind == RecordKind.ANSWER and (local.year, local.month) == (
                month.year,
                month.month,
            ):
                count += not record.payload.get("suspect")
    return count


def test_quality_manager_reads_the_desk_figure_computed_from_the_data(browser, demo_server):
    server, data = demo_server
    last_month = add_months(datetime.now(PARIS).date().replace(day=1), -1)
    month_end = add_months(last_month, 1) - timedelta(days=1)
    satisfied, expressed = expected_rate(data, SITE, SERVICE, last_month, month_end)
    assert expressed >= 5  # enough answers for the figure to be published
    rate = 100 * satisfied / expressed
    # One decimal, French comma: 89.7 % must not read "90 %" next to "below target".
    shown = f"{rate:.1f}".replace(".", ",")

    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.screenshot(path=str(SCREENS / "login.png"))
    log_in(page, server.url)

    card = page.locator(f'li.card[data-site="{SITE}"][data-service="{SERVICE}"]')
    expect(card).to_contain_text("IRIS – guichet unique")
    expect(card.locator(".rate")).to_have_text(f"{shown}\u202f%")
    # Every answer, "sans avis" included, and how many of them gave no opinion.
    answers = card.locator('[data-figure="answers"] dd')
    expect(answers).to_have_text(
        re.compile(rf"^{answers_in(data, last_month)} \(dont \d+ « sans avis »\)$")
    )
    mark = "Objectif atteint" if rate >= 90 else "Sous l'objectif"
    expect(card.locator(".mark")).to_contain_text(mark)
    expect(card.locator(".mark")).to_contain_text("✓" if rate >= 90 else "✗")
    # The desk that opened a few days ago has nothing last month: hidden, with the reason.
    newest = TOWN["desks"][-1]
    hidden = page.locator(
        f'li.card[data-site="{newest["site"]}"][data-service="{newest["service"]}"]'
    )
    expect(hidden.locator(".hidden-reason")).to_be_visible()
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "dashboard.png"))
    context.close()


def test_period_picker_shows_another_month(browser, demo_server):
    server, _data = demo_server
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
    page = context.new_page()
    log_in(page, server.url)
    two_months_ago = add_months(datetime.now(PARIS).date().replace(day=1), -2)
    expect(page.get_by_label("Période", exact=True)).to_have_value("month")
    page.get_by_label("Laquelle").fill(f"{two_months_ago:%Y-%m}")
    with page.expect_navigation():
        page.get_by_role("button", name="Afficher").click()
    expect(page).to_have_url(re.compile(rf"kind=month&period={two_months_ago:%Y-%m}"))
    expect(page.get_by_label("Laquelle")).to_have_value(f"{two_months_ago:%Y-%m}")
    # The campaign's date fields appear only once "campaign" is chosen (no script needed).
    expect(page.get_by_label("Du", exact=True)).to_be_hidden()
    context.close()


def test_overview_of_a_survey_campaign(browser, demo_server):
    """A campaign from the 10th of two months ago to the 20th of last month, typed into the two
    date fields; the IRIS card reads the rate counted from the raw records of those days."""
    server, data = demo_server
    month = add_months(datetime.now(PARIS).date().replace(day=1), -2)
    first, last = month.replace(day=10), add_months(month, 1).replace(day=20)
    satisfied, expressed = expected_rate(data, SITE, SERVICE, first, last)
    assert expressed >= 5
    shown = f"{100 * satisfied / expressed:.1f}".replace(".", ",")

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    log_in(page, server.url)
    page.get_by_label("Période", exact=True).select_option("campaign")
    expect(page.get_by_label("Laquelle")).to_be_hidden()
    page.get_by_label("Du", exact=True).fill(first.isoformat())
    page.get_by_label("Au (inclus)").fill(last.isoformat())
    with page.expect_navigation():
        page.get_by_role("button", name="Afficher").click()
    expect(page).to_have_url(re.compile(rf"kind=campaign.*from={first}&to={last}"))
    card = page.locator(f'li.card[data-site="{SITE}"][data-service="{SERVICE}"]')
    expect(card.locator(".rate")).to_have_text(f"{shown}\u202f%")
    expect(page.locator("h1")).to_contain_text(f"{first.day} ")
    expect(page.get_by_label("Du", exact=True)).to_have_value(first.isoformat())
    page.screenshot(path=str(SCREENS / "dashboard-campaign.png"))
    # The end before the start: said on the page, and the default period shown instead.
    page.get_by_label("Du", exact=True).fill(last.isoformat())
    page.get_by_label("Au (inclus)").fill(first.isoformat())
    with page.expect_navigation():
        page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_role("alert")).to_contain_text("se termine avant de commencer")
    expect(page.get_by_role("alert")).to_contain_text("Période affichée à la place")
    context.close()
