"""An internal audit from plan to evidence in a real browser (Debian's Chromium through
Playwright) on the live server with the demo data: the quality manager plans the audit of IRIS,
an internal auditor records a non-conformity with its photo on a phone-sized screen (which opens
an improvement action), the quality manager issues the report, reads it as a PDF, and downloads
the year's AFNOR evidence pack holding it."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from sync_server.web.figures import today
from tests.fixtures.server import PASSWORD, add_user
from tests.tools.page_checks import axe_violations, too_wide

pytestmark = pytest.mark.browser

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()


def test_plan_audit_record_a_non_conformity_issue_the_report_and_hand_the_evidence(
    browser: Browser, demo_server
):
    server, _data = demo_server
    for name in ("audit.one", "audit.two"):
        add_user(server.storage, name, "internal_auditor", [])
    day = today(server.settings) - timedelta(days=2)
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR",
                               bypass_csp=True, accept_downloads=True)  # fmt: skip
    quality = desk.new_page()
    sign_in(quality, server.url, "qualite")
    quality.goto(f"{server.url}/audits?year={day.year}")
    plan = quality.get_by_role("region", name="Planifier un audit")
    plan.get_by_label("Service certifié").select_option("iris")
    plan.get_by_label("Date").fill(day.isoformat())
    plan.get_by_label("Premier auditeur").select_option("audit.one")
    plan.get_by_label("Second auditeur").select_option("audit.two")
    plan.get_by_role("button", name="Planifier l'audit").click()
    expect(quality).to_have_url(re.compile(r"/audits/\d+$"))
    expect(quality.locator("main")).to_contain_text("audit.one, audit.two")
    audit_url = quality.url

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR",
                                is_mobile=True, has_touch=True, bypass_csp=True)  # fmt: skip
    auditor = phone.new_page()
    sign_in(auditor, server.url, "audit.one")
    auditor.goto(audit_url)
    form = auditor.get_by_role("region", name="Enregistrer un constat")
    form.get_by_label("Engagement").select_option("REC-02")
    form.get_by_label("Constat").select_option("non_conformity")
    form.get_by_label("Preuves et observations").fill(
        "Trois réclamations répondues après quinze jours ouvrés."
    )
    form.get_by_label(re.compile("Pièce jointe")).set_input_files(
        {"name": "affiche.png", "mimeType": "image/png", "buffer": PNG}
    )
    assert too_wide(auditor) == []
    assert axe_violations(auditor) == []
    form.get_by_role("button", name="Enregistrer le constat").click()
    findings = auditor.get_by_role("region", name="Constats")
    expect(findings).to_contain_text("Non-conformité")
    expect(findings.get_by_role("link", name=re.compile(r"Action n° \d+"))).to_be_visible()
    expect(findings.get_by_role("link", name="Pièce jointe (PNG)")).to_be_visible()
    # Only the quality manager issues the report.
    expect(auditor.get_by_role("button", name="Rapport remis")).to_have_count(0)

    quality.goto(audit_url)
    quality.get_by_role("button", name="Marquer réalisé").click()
    quality.get_by_role("button", name="Rapport remis").click()
    expect(quality.locator("h1")).to_contain_text("Rapport remis")
    report = quality.request.get(f"{audit_url}/report.pdf")
    assert report.ok
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(report.body())).pages)
    assert "Trois réclamations répondues" in " ".join(text.split())

    quality.goto(f"{server.url}/review?year={day.year}")
    quality.get_by_label(f"Dossier de preuves AFNOR {day.year}").select_option("iris")
    with quality.expect_download() as waiting:
        quality.get_by_role("button", name="Télécharger le dossier (ZIP)").click()
    download = waiting.value
    assert download.suggested_filename.endswith(".zip")
    pack = zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read()))  # noqa: SIM115
    names = pack.namelist()
    assert any(n.startswith("audits-internes/") and n.endswith("/rapport.pdf") for n in names)
    assert any(n.startswith("audits-internes/") and n.endswith(".png") for n in names)
    assert "index.html" in names
    phone.close()
    desk.close()
