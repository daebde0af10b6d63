"""The audit trail in a real browser (Debian's Chromium through Playwright) on the live server
with the demo data: an administrator creates a quality manager; the quality manager finds the
notice on the overview, acknowledges it, downloads an export, and reads the audit page, filtered
and whole; screenshots docs/screens/audit-notice.png and docs/screens/audit.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.browser import SCREENS, log_in
from tests.fixtures.server import PASSWORD, add_user

pytestmark = pytest.mark.browser


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()


def test_a_new_quality_manager_is_noticed_and_the_audit_page_tells_who_did_what(
    browser, demo_server
):
    server, _data = demo_server
    add_user(server.storage, "informatique", "admin")
    add_user(server.storage, "chef-iris", "service_manager", ["iris"])
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")

    admin = context.new_page()
    sign_in(admin, server.url, "informatique")
    with admin.expect_navigation():
        admin.get_by_role("link", name="Comptes", exact=True).click()
    admin.get_by_label("Identifiant").fill("m.martin")
    admin.get_by_label("Rôle").select_option("quality_manager")
    with admin.expect_navigation():
        admin.get_by_role("button", name="Créer le compte").click()
    expect(admin.get_by_role("status").first).to_contain_text("Compte « m.martin » créé.")
    with admin.expect_navigation():
        admin.get_by_role("button", name="Se déconnecter").click()

    page = context.new_page()
    log_in(page, server.url)
    notice = page.locator("section[data-notices]")
    expect(notice.get_by_role("heading")).to_have_text("⚠ Nouveau compte de responsable qualité")
    expect(notice).to_contain_text(
        "Le compte « m.martin » a été créé avec le rôle de responsable qualité par informatique"
        " (Administrateur·rice)"
    )
    page.screenshot(path=str(SCREENS / "audit-notice.png"), clip=_top(page, notice))
    with page.expect_navigation():
        notice.get_by_role("button", name="J'en ai pris connaissance").click()
    expect(page.locator("section[data-notices]")).to_have_count(0)
    with page.expect_download():
        page.get_by_role("link", name="Indicateurs (CSV)").click()

    with page.expect_navigation():
        page.get_by_role("link", name="Journal", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Journal d'audit")
    expect(page.locator("nav.mainnav a[aria-current=page]")).to_have_text("Journal")
    # The quality manager's menu (the quality cycle's pages included) holds on two lines at 1280 px.
    tops = {round(link.bounding_box()["y"]) for link in page.locator("nav.mainnav a").all()}
    assert len(tops) <= 2
    table = page.locator("table.audit")
    first = table.locator("tbody tr").first
    expect(first).to_have_attribute("data-action", "export.downloaded")
    expect(first).to_contain_text("Indicateurs (CSV)")
    expect(table).to_contain_text("Avis de nouveau responsable qualité lu")
    expect(table).to_contain_text("Connexion au tableau de bord")

    page.get_by_label("Type d'action").select_option("accounts")
    with page.expect_navigation():
        page.get_by_role("button", name="Filtrer").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    created = table.locator("tbody tr").first
    for shown in ("informatique", "Administrateur·rice", "Compte créé", "m.martin",
                  "Rôle : Responsable qualité", "Mot de passe généré : oui"):  # fmt: skip
        expect(created).to_contain_text(shown)
    with page.expect_download() as download:
        page.get_by_role("link", name="Exporter ces événements (CSV)").click()
    assert download.value.suggested_filename == "journal-audit.csv"

    with page.expect_navigation():
        page.get_by_role("link", name="Tout afficher").click()
    expect(table.locator("tbody tr")).to_have_count(7)
    page.screenshot(path=str(SCREENS / "audit.png"), full_page=True)
    # Every control of the filter has its label and reaches the 44 px of a touch target.
    for name in ("Du", "Au (inclus)", "Type d'action", "Personne"):
        box = page.get_by_label(name, exact=True).bounding_box()
        assert box is not None
        assert box["height"] >= 44, name
    context.close()


def _top(page: Page, section) -> dict[str, float]:
    """The top of the page down to the end of `section`, full width."""
    box = section.bounding_box()
    assert box is not None
    return {
        "x": 0,
        "y": 0,
        "width": page.viewport_size["width"],
        "height": box["y"] + box["height"] + 24,
    }
