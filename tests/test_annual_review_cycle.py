"""The annual review's quality cycle, read back from the PDF of the real app: the surveys desk by
desk with what went wrong, the mystery evaluations, the internal audits and their
non-conformities, the actions done with their measured effect and the actions proposed. One page
is rendered to docs/screens/annual-review.png."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from sync_server.web.figures import today
from tests.fixtures.server import SERVICE, SITE, add_user
from tests.tools.cycle_records import action, audit_with_findings, mystery_visit, noon
from tests.tools.desk_records import answers

SCREENS = Path(__file__).resolve().parents[1] / "docs" / "screens"
CIVIL = ("hotel-de-ville", "etat-civil")
IRIS_NAME = "IRIS – guichet unique"


def pdf_pages(content: bytes) -> list[str]:
    assert content.startswith(b"%PDF"), content[:200]
    return [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(content)).pages]


@pytest.fixture
def year_of_cycle(app_server):
    """Last year at IRIS: unhappy visitors in March (the wait, the premises), happier ones in
    June after an action done on 1 April; a mystery visit; an audit with a non-conformity; an
    action proposed for next year. État civil: an audit with a strong point."""
    storage = app_server.storage
    year = today(app_server.settings).year - 1
    why = {"overall": "dissatisfied", "why_unhappy": ["waiting", "premises"]}
    answers(storage, ["dissatisfied"] * 3, noon(date(year, 3, 3)), answers=why)
    answers(storage, ["satisfied"] * 3, noon(date(year, 3, 4)))
    answers(storage, ["satisfied"] * 9 + ["dissatisfied"], noon(date(year, 6, 3)))
    answers(storage, ["satisfied"] * 5, noon(date(year, 3, 5)), desk=CIVIL)
    action(storage, "Ouvrir un second guichet le samedi", (SERVICE,), done_on=date(year, 4, 1))
    action(storage, "Afficher les horaires à l'entrée", (SERVICE,), origin="staff_suggestion",
           indicator=None)  # fmt: skip
    mystery_visit(storage, SERVICE, SITE, date(year, 5, 12), 4)
    audit_with_findings(storage, SERVICE, date(year, 9, 15),
                        [("ACC-01", "non_conformity"), ("ACC-02", "conformity"),
                         ("ACC-03", "observation")], status="report_issued")  # fmt: skip
    audit_with_findings(storage, "etat-civil", date(year, 10, 2), [("ACC-01", "strong_point")])
    client = app_server.login_session(app_server.client())
    return client, year


def test_the_annual_review_reports_the_years_quality_cycle(year_of_cycle):
    client, year = year_of_cycle
    response = client.get(f"/reports/annual.pdf?year={year}")
    assert response.status_code == 200
    pages = pdf_pages(response.content)
    text = " ".join(pages)
    # The surveys: 16 answers at IRIS, 4 of them unhappy, the wait and the premises named.
    surveys = text[text.index("ce qui n'a pas été") :]
    assert re.search(rf"{IRIS_NAME} Centre administratif municipal 16 75,0\s*% 16 "
                     r"L'attente \(50,0\s*%\) · Les locaux \(50,0\s*%\)", surveys)  # fmt: skip
    # The mystery visit: every criterion met.
    assert re.search(rf"Visites et appels mystère {year}.*{IRIS_NAME} 1 100,0\s*%", text)
    # Two audits held; IRIS: one finding of each verdict but the strong point.
    assert f"Audits internes {year} : 2 réalisés sur 2" in text
    assert re.search(rf"{IRIS_NAME} 15/09/{year} Rapport remis 1 1 1 0", text)
    assert re.search(rf"État civil 02/10/{year} Réalisé 0 0 0 1", text)
    # The non-conformity and the action it opened, proposed.
    assert re.search(rf"{IRIS_NAME} Audit n° \d+ ACC-01 n° \d+ · Non-conformité ACC-01 \(iris\) "
                     r"Proposée", text)  # fmt: skip
    # The action done on 1 April: 50 % over the three months before, 90 % after.
    effects = text[text.index(f"Actions réalisées en {year}") :]
    assert re.search(
        rf"Ouvrir un second guichet le samedi {IRIS_NAME} 01/04/{year} "
        r"Satisfaction globale 50,0\s*% \(N = 6\) 90,0\s*% \(N = 10\)",
        effects,
    )
    # Proposed, awaiting validation: the action without indicator and the audit's.
    proposed = text[text.index("à valider") :]
    assert "Afficher les horaires à l'entrée Suggestion d'un agent" in proposed
    assert "Non-conformité ACC-01 (iris) Constat d'audit interne" in proposed
    assert len(pages) <= 5
    shot = render_page(response.content, len(pages))
    assert shot.stat().st_size > 10_000


def test_a_service_manager_reads_only_their_services_cycle(year_of_cycle, app_server):
    _client, year = year_of_cycle
    add_user(app_server.storage, "chef-civil", "service_manager", ["etat-civil"])
    chief = app_server.login_session(app_server.client(), "chef-civil", "service_manager")
    text = " ".join(pdf_pages(chief.get(f"/reports/annual.pdf?year={year}").content))
    assert "Audits internes" in text
    assert IRIS_NAME not in text
    assert "Ouvrir un second guichet" not in text
    assert re.search(rf"État civil 02/10/{year} Réalisé 0 0 0 1", text)


def render_page(pdf: bytes, count: int) -> Path:
    """The review's page holding the quality cycle, as docs/screens/annual-review.png."""
    assert shutil.which("pdftoppm"), "pdftoppm (poppler-utils, installed by ./dev test) draws it"
    page = min(2, count)
    target = SCREENS / "annual-review"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", str(page), "-l", str(page), "-singlefile", "-",
         str(target)],
        input=pdf, check=True,
    )  # fmt: skip
    return target.with_suffix(".png")
