"""The improvement plan in a real browser (Debian's Chromium through Playwright) on the live
server with the demo data: a service manager proposes an action on a phone-sized screen, the
quality manager validates it, the service manager marks it done, and its effect shows — the
months before measured, the months after still running. Screenshots docs/screens/action-plan.png,
action-effect.png and referential.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.fixtures.browser import SCREENS
from tests.fixtures.server import PASSWORD, add_user
from tests.tools.page_checks import axe_violations, too_wide

pytestmark = pytest.mark.browser

CHEF = "chef-etat-civil"


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()


def test_propose_validate_done_and_the_effect_shows(browser: Browser, demo_server):
    server, _data = demo_server
    add_user(server.storage, CHEF, "service_manager", ["etat-civil"])
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR",
                                is_mobile=True, has_touch=True, bypass_csp=True)  # fmt: skip
    chef = phone.new_page()
    sign_in(chef, server.url, CHEF)
    chef.get_by_role("link", name="Plan d'actions").click()
    expect(chef).to_have_url(f"{server.url}/actions")
    form = chef.get_by_role("region", name="Proposer une action")
    form.get_by_label("Intitulé de l'action").fill("Rendez-vous en ligne pour les passeports")
    form.get_by_label("Origine").select_option(label="Réclamation")
    form.get_by_label("Indicateur visé (pour mesurer l'effet)").select_option("satisfaction_rate")
    form.get_by_label("Engagement du référentiel").select_option("ACC-07")
    form.get_by_label("Pilote").fill("Responsable de l'état civil")
    assert too_wide(chef) == []
    assert axe_violations(chef) == []
    chef.get_by_role("button", name="Proposer l'action").click()
    expect(chef).to_have_url(re.compile(r"/actions/\d+$"))
    action_url = chef.url
    expect(chef.locator("h1")).to_contain_text("Proposée")
    # Only the quality manager validates: the service manager has no such button.
    expect(chef.get_by_role("button", name="Valider")).to_have_count(0)

    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    quality = desk.new_page()
    sign_in(quality, server.url, "qualite")
    quality.goto(f"{server.url}/actions?status=proposed")
    quality.screenshot(path=str(SCREENS / "action-plan.png"), full_page=True)
    quality.get_by_role("link", name="Rendez-vous en ligne pour les passeports").click()
    quality.get_by_role("button", name="Valider").click()
    expect(quality.locator("h1")).to_contain_text("Validée")

    chef.goto(action_url)
    chef.get_by_role("button", name="Marquer réalisée").click()
    expect(chef.locator("h1")).to_contain_text("Réalisée")
    effect = chef.locator("[data-effect]")
    expect(effect).to_have_attribute("data-effect", "measuring")
    expect(effect).to_contain_text("Mesure en cours")
    before = chef.locator("[data-effect-side=before] [data-effect-value]")
    expect(before).to_contain_text(re.compile(r"\d+,\d\u202f% \(N = \d+\)"))
    assert too_wide(chef) == []
    assert axe_violations(chef) == []

    quality.goto(action_url)
    quality.screenshot(path=str(SCREENS / "action-effect.png"), full_page=True)
    quality.goto(f"{server.url}/referential")
    expect(quality.locator('[data-service="clavim"]')).to_contain_text("Phase 2")
    quality.set_viewport_size({"width": 1280, "height": 1400})
    quality.screenshot(path=str(SCREENS / "referential.png"))
    phone.close()
    desk.close()
