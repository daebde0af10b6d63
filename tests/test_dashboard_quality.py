"""The quality manager's pages, exports and reports in-process: role rules on every route,
exports opened back, PDF text extracted, register and target workflows through real forms."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from sync_server.indicators.periods import containing
from sync_server.storage import quality
from tests.fixtures.server import SERVICE, SITE, add_user, log_in_client, set_target
from tests.fixtures.web import form_token
from tests.tools.desk_records import answers, served

OTHER = "etat-civil"
NOW = datetime.now(UTC)
# The quarter of `filled`'s answers: a poster announces answers, a quarter without any has none.
QUARTER = containing("quarter", containing("month", NOW.date()).previous().start).key


@pytest.fixture
def filled(app_client):
    """Last month: 9 satisfied + 1 dissatisfied at IRIS (90 %), 5 visits; a comment."""
    storage = app_client.app.state.storage
    at = datetime.combine(containing("month", NOW.date()).previous().start, datetime.min.time(),
                          tzinfo=UTC) + timedelta(days=3, hours=9)  # fmt: skip
    answers(storage, ["satisfied"] * 9 + ["dissatisfied"], at)
    answers(storage, ["satisfied"], at, comment="Merci à Mme Dupont, dossier 123 456 789")
    answers(storage, ["satisfied"], at)
    served(storage, [3, 5, 7, 9, 11], at)
    return app_client, at


def login(client, role, services=None):
    storage = client.app.state.storage
    name = f"{role}-{'-'.join(services or [])}"
    add_user(storage, name, role, services)
    log_in_client(client, name, role)


PAGES = [
    "/", f"/service/{SERVICE}", "/comments", "/review", "/targets", "/fleet",
    "/export/answers.csv", "/export/visits.xlsx", "/export/indicators.csv",
    "/reports/monthly.pdf", "/reports/annual.pdf",
    f"/reports/poster/{SERVICE}.pdf?quarter={QUARTER}",
]  # fmt: skip
ALLOWED = {
    "quality_manager": set(PAGES),
    "service_manager": set(PAGES) - {"/targets", "/fleet"},
    "admin": {"/fleet"},
}


@pytest.mark.parametrize("role", ["quality_manager", "service_manager", "admin"])
def test_each_role_reaches_only_its_pages(filled, role):
    client, _ = filled
    client.follow_redirects = False
    login(client, role, [SERVICE] if role == "service_manager" else None)
    for path in PAGES:
        response = client.get(path)
        if path in ALLOWED[role]:
            assert response.status_code == 200, (role, path, response.text[:500])
        elif path == "/" and role == "admin":
            assert response.headers["location"] == "/fleet"
        else:
            assert response.status_code == 403, (role, path)


def test_nobody_logged_in_is_sent_to_login(filled):
    client, _ = filled
    client.follow_redirects = False
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")


def test_a_service_manager_sees_only_own_services_everywhere(filled):
    client, at = filled
    storage = client.app.state.storage
    answers(storage, ["satisfied"] * 6, at, comment="Guichet état civil", **{})
    login(client, "service_manager", [OTHER])
    client.follow_redirects = False
    refused = client.get(f"/service/{SERVICE}")
    assert refused.status_code == 403
    # The refusal keeps the service manager's own menu, so they can go on from there.
    assert 'href="/comments"' in refused.text
    assert 'href="/targets"' not in refused.text
    assert client.get(f"/export/answers.csv?service={SERVICE}").status_code == 403
    assert client.get(f"/reports/poster/{SERVICE}.pdf").status_code == 403
    # Unfiltered exports and pages hold only their service's rows.
    text = client.get("/export/answers.csv").content.decode("utf-8-sig")
    assert SERVICE not in text
    overview = client.get("/").text
    assert f'data-service="{SERVICE}"' not in overview
    assert "Dupont" not in client.get("/comments").text
    with storage.read() as connection:
        comment_id = quality.register(connection)[0].id
    response = client.post(f"/comments/{comment_id}", data={
        "csrf_token": form_token(client.get("/comments").text) if "csrf_token" in
        client.get("/comments").text else "x", "action": "close"})  # fmt: skip
    assert response.status_code == 403
    with storage.read() as connection:
        assert quality.register(connection)[0].status == "new"
    # The JSON API follows the same rule.
    rows = client.get("/api/v1/indicators").json()["rows"]
    assert {r["service"] for r in rows} == {OTHER}


def test_exports_open_back_with_the_figures_and_neutralised_cells(filled):
    client, at = filled
    storage = client.app.state.storage
    answers(storage, ["satisfied"], at, answers={"overall": "satisfied"}, language="fr")
    login(client, "quality_manager")
    month = f"{at:%Y-%m}"
    book = load_workbook(io.BytesIO(client.get(
        f"/export/indicators.xlsx?kind=month&period={month}").content))  # fmt: skip
    rows = list(book["Indicateurs"].iter_rows(values_only=True))
    assert rows[0][:5] == ("Période", "Site", "Service", "Indicateur", "Valeur")
    assert rows[0][-3:] == ("Code de l'indicateur", "Code du site", "Code du service")
    [line] = [r for r in rows if r[-2:] == (SITE, SERVICE) and r[3] == "Satisfaction globale"]
    assert line[-3] == "satisfaction_rate"
    assert (line[4], line[5]) == (pytest.approx(round(100 * 12 / 13, 2)), "%")  # 12 of 13
    english = client.get(f"/export/answers.csv?kind=month&period={month}&lang=en")
    reader = list(csv.reader(io.StringIO(english.content.decode("utf-8-sig"))))
    assert reader[0][:3] == ["Date and time", "Site", "Service"]
    assert len(reader) == 1 + 13
    visits = load_workbook(io.BytesIO(client.get(
        f"/export/visits.xlsx?kind=month&period={month}").content))["Passages"]  # fmt: skip
    header = next(visits.iter_rows(max_row=1, values_only=True))
    wait = header.index("Attente (min)")
    waits = sorted(r[wait] for r in visits.iter_rows(min_row=2, values_only=True))
    assert waits == [3, 5, 7, 9, 11]


def test_formula_cells_are_neutralised():
    from sync_server.web.tables import neutralise, to_csv, to_xlsx

    for dangerous in ("=1+1", "+1", "-2+3", "@SUM(A1)", "\t=x"):
        assert neutralise(dangerous) == "'" + dangerous
    assert neutralise(-3) == -3  # a negative number stays a number
    sheet = load_workbook(io.BytesIO(to_xlsx("t", ["h"], [['=HYPERLINK("x")']]))).active
    assert sheet["A2"].value == '\'=HYPERLINK("x")'
    assert sheet["A2"].data_type == "s"
    assert to_csv(["a"], [["=1"]]).decode("utf-8-sig").splitlines()[1] == "'=1"
    french = to_csv(["a", "b"], [[92.5, -1.5]], decimal=",").decode("utf-8-sig")
    assert french.splitlines()[1] == "92,5;-1,5"  # numbers: a comma, never an apostrophe


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.split())  # table cells wrap: compare words, not lines


def test_monthly_pack_annual_review_and_poster_carry_the_figures(filled):
    client, at = filled
    storage = client.app.state.storage
    login(client, "quality_manager")
    month = f"{at:%Y-%m}"
    text = pdf_text(client.get(f"/reports/monthly.pdf?period={month}").content)
    assert "Dossier mensuel Qualivilles" in text
    assert "IRIS" in text
    assert re.search(r"91,7\s*%", text)  # 11 of 12 on the main question
    set_target(storage, "satisfaction_rate", SERVICE, 95, at.date().replace(month=1, day=1))
    with storage.write() as connection:
        quality.record_action(
            connection,
            year=at.year,
            service=SERVICE,
            indicator="satisfaction_rate",
            action="Second agent le samedi",
            by="qualite",
        )
    review = pdf_text(client.get(f"/reports/annual.pdf?year={at.year}").content)
    assert "Bilan annuel" in review
    assert "Second agent le samedi" in review
    poster = pdf_text(client.get(f"/reports/poster/{SERVICE}.pdf?quarter={QUARTER}").content)
    assert "Votre satisfaction" in poster


def test_register_workflow_masks_and_marks_overdue(filled):
    client, _at = filled
    storage = client.app.state.storage
    login(client, "quality_manager")
    page = client.get("/comments").text
    assert "Mme ▒▒▒" in page
    assert "Dupont" not in page
    assert "Dupont" in client.get("/comments?show=1").text
    # Received more than 7 days ago (filled last month) and never acknowledged: overdue.
    assert "Accusé de réception en retard" in page
    with storage.read() as connection:
        comment_id = quality.register(connection)[0].id
    token = form_token(page)
    for action in ("acknowledge", "answer"):
        response = client.post(f"/comments/{comment_id}", data={
            "csrf_token": token, "action": action, "category": "compliment",
            "reply": "Merci, transmis à l'équipe."}, follow_redirects=False)  # fmt: skip
        assert response.status_code == 303
    with storage.read() as connection:
        entry = quality.register(connection)[0]
    assert (entry.status, entry.category, entry.reply) == (
        "answered", "compliment", "Merci, transmis à l'équipe."
    )  # fmt: skip
    forged = client.post(f"/comments/{comment_id}", data={"csrf_token": "forged",
                         "action": "close"})  # fmt: skip
    assert forged.status_code == 403
    with storage.read() as connection:
        assert quality.register(connection)[0].status == "answered"


def test_targets_page_records_history_with_csrf(filled):
    client, _ = filled
    storage = client.app.state.storage
    login(client, "quality_manager")
    token = form_token(client.get("/targets").text)
    data = {"csrf_token": token, "indicator": "satisfaction_rate", "service": SERVICE,
            "value": "92,5", "valid_from": "2025-01-01"}  # fmt: skip
    assert client.post("/targets", data=data, follow_redirects=False).status_code == 303
    assert client.post("/targets", data={**data, "value": "150"}).status_code == 400
    assert client.post("/targets", data={**data, "csrf_token": "no"}).status_code == 403
    with storage.read() as connection:
        assert [(t.service, t.value) for t in quality.target_history(connection)] == [
            (SERVICE, 92.5)
        ]
    assert "92,5" in client.get("/targets").text


def test_service_page_shows_charts_with_text_equivalents(filled):
    client, at = filled
    login(client, "quality_manager")
    page = client.get(f"/service/{SERVICE}?kind=month&period={at:%Y-%m}").text
    assert page.count('<svg role="img"') >= 2
    assert "<title>Satisfaction globale sur 12 mois" in page
    assert "Répartition des réponses par question (nombre de réponses)" in page
    assert "91,7" in page
    assert "Mme ▒▒▒" in page


def test_the_waiting_engagement_takes_a_target_and_its_miss_is_in_the_annual_review(filled):
    client, at = filled  # five waits at IRIS: 3, 5, 7, 9 and 11 min; threshold 10 min
    login(client, "quality_manager")
    token = form_token(client.get("/targets").text)
    data = {"csrf_token": token, "indicator": "within_threshold_rate", "service": SERVICE,
            "value": "95", "valid_from": f"{at.year}-01-01"}  # fmt: skip
    assert client.post("/targets", data=data, follow_redirects=False).status_code == 303
    page = client.get(f"/review?year={at.year}").text
    miss = re.search(
        rf'data-service="{SERVICE}" data-indicator="within_threshold_rate">(.*?)</li>', page, re.S
    )
    assert miss, "the engagement's miss is not listed"
    assert re.search(r"80,0\s*%", miss.group(1))  # 4 of 5 within 10 minutes
    assert 'data-indicator="walk_out_rate"' not in page  # no target: never a miss


def test_overview_cards_agree_in_number(filled):
    client, at = filled
    storage = client.app.state.storage
    answers(storage, ["very_dissatisfied"], at, suspect=True)
    login(client, "quality_manager")
    page = client.get(f"/?kind=month&period={at:%Y-%m}").text
    assert "1 appui suspect exclu." in page
    assert "1 appuis" not in page
    answers(storage, ["very_dissatisfied"], at + timedelta(minutes=1), suspect=True)
    assert "2 appuis suspects exclus." in client.get(f"/?kind=month&period={at:%Y-%m}").text


def test_a_comment_whose_contact_details_were_removed_is_marked_in_the_register(filled):
    client, at = filled
    storage = client.app.state.storage
    login(client, "quality_manager")
    mark = "Coordonnées retirées : à lire avant toute publication"
    assert mark not in client.get("/comments").text  # the fixture's comment has none
    answers(storage, ["dissatisfied"], at, comment="Rappelez-moi au 06 12 34 56 78 svp")
    page = client.get("/comments").text
    assert page.count(mark) == 1
    assert "06 12 34 56 78" not in page
