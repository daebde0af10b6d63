"""The waiting-time section of the service page and of the PDF monthly pack, on the real app
in-process: the hand-computed month of tests/tools/wait_month.py ingested through the real
storage, pages fetched over HTTP with a logged-in session, the PDF's text extracted, the role rule
checked."""

from __future__ import annotations

import html
import io
import re
from datetime import date

import pytest
from babel.messages.pofile import read_po
from pypdf import PdfReader

from sync_server import i18n
from sync_server.indicators.periods import containing
from sync_server.storage import devices
from tests.fixtures.server import SERVICE, add_user
from tests.tools.page_text import figure_cells, text_of, waits_panel
from tests.tools.wait_month import fill_month

OTHER = "etat-civil"  # has an enrolled agent tablet here, but no visit recorded
NO_TABLET = "ccas"


@pytest.fixture
def waits_server(app_server):
    """The app with last month's hand-computed visits and linked answers at IRIS."""
    fill_month(app_server.storage, containing("month", date.today()).previous().start)
    with app_server.storage.write() as connection:
        code = devices.create(connection, site="hotel-de-ville", service=OTHER, mode="tablet")
        devices.enrol(connection, code.code, app_version="test")
    return app_server


def session_as(server, username: str, role: str = "quality_manager", services=None):
    if services is not None:
        add_user(server.storage, username, role, services)
    return server.login_session(server.client(), username, role)


def test_service_page_shows_the_waits_computed_from_the_visits(waits_server):
    session = session_as(waits_server, "qualite")
    response = session.get(f"{waits_server.url}/service/{SERVICE}")
    assert response.status_code == 200
    panel = waits_panel(response.text)
    assert "<h2>Temps d'attente</h2>" in panel
    # name, value, N, previous, target, gap, status — hand-computed in tests/tools/wait_month.py.
    assert figure_cells(panel, "visits")[:3] == ["Passages enregistrés par les agents", "10", "10"]
    assert figure_cells(panel, "mean_wait_minutes")[1:3] == ["7,3\u00a0min", "9"]
    assert figure_cells(panel, "median_wait_minutes")[1:3] == ["4,0\u00a0min", "9"]
    assert figure_cells(panel, "p90_wait_minutes")[1:3] == ["30,0\u00a0min", "9"]
    assert figure_cells(panel, "max_wait_minutes")[1:3] == ["30,0\u00a0min", "9"]
    within = figure_cells(panel, "within_threshold_rate")
    assert within[:3] == ["Reçus en 10 min au plus (engagement)", "88,9\u202f%", "9"]
    assert figure_cells(panel, "walk_out_rate")[1:3] == ["10,0\u202f%", "10"]
    # The same mean as the desk's figures table above it: one computation.
    desk_table = response.text[: response.text.index('<section class="panel waits"')]
    assert re.search(r"Attente moyenne</th>\s*<td class=\"num\">7,3\u00a0min", desk_table)

    # The heatmap: an accessible SVG with each cell's number, and a table with the same.
    heat = re.search(r'<figure class="chart-box heatmap">(.*?)</figure>', panel, re.S)
    assert heat
    svg = heat.group(1)
    assert 'role="img"' in svg
    assert "<title>Attente moyenne par heure et jour d&#x27;arrivée · Centre administratif" in svg
    assert "<desc>Dans chaque case" in svg
    assert "10,0" in svg and "(6)" in svg and "(4)" in svg  # noqa: PT018 - one cell each
    tuesday = re.search(r'<tr><th scope="row">mardi</th>(.*?)</tr>', panel, re.S)
    assert tuesday
    assert text_of(tuesday.group(1)).startswith("10,0 (6)")  # 9 h, the first hour shown
    wednesday = re.search(r'<tr><th scope="row">mercredi</th>(.*?)</tr>', panel, re.S)
    assert wednesday
    assert text_of(wednesday.group(1)).endswith("— (4)")  # 14 h: 3 waits < 5, mean hidden

    # Satisfaction by waiting band: chart and table; the 1-answer band hidden with its reason.
    assert '<figure class="chart-box bands">' in panel
    bands = re.search(r'<table class="data compact wait-bands">(.*?)</table>', panel, re.S)
    assert bands
    rows = [text_of(r) for r in re.findall(r"<tr>(.*?)</tr>", bands.group(1), re.S)][1:]
    assert rows[0] == "moins de 5 min 80,0\u202f% 5"
    assert rows[1] == "5 à 10 min — Aucune réponse. 0"
    assert rows[3] == "20 min et plus — Masqué : moins de 5 réponses (N = 1). 1"


def test_desks_without_visits_say_why(waits_server):
    session = session_as(waits_server, "qualite")
    with_tablet = waits_panel(session.get(f"{waits_server.url}/service/{OTHER}").text)
    assert "la tablette d'agent de ce guichet n'a noté aucune arrivée" in html.unescape(with_tablet)
    assert "heatmap" not in with_tablet
    assert "data-figure" not in with_tablet
    without = waits_panel(session.get(f"{waits_server.url}/service/{NO_TABLET}").text)
    assert "ce guichet n'en a pas" in html.unescape(without)
    assert "heatmap" not in without


def test_the_section_reads_in_english(waits_server):
    session = session_as(waits_server, "qualite")
    panel = waits_panel(session.get(f"{waits_server.url}/service/{SERVICE}?lang=en").text)
    assert "<h2>Waiting time</h2>" in panel
    assert figure_cells(panel, "within_threshold_rate")[:2] == [
        "Seen within 10 min (commitment)", "88.9%"
    ]  # fmt: skip
    assert "under 5 min" in panel
    assert "Tuesday" in panel
    assert "Reçus" not in panel and "moins de 5 min" not in panel  # noqa: PT018


def test_every_waits_message_is_translated_into_english():
    def entries(language: str) -> dict[str, str]:
        path = i18n.LOCALES_DIR / language / "LC_MESSAGES" / "waits.po"
        with path.open("rb") as handle:
            return {m.id: m.string for m in read_po(handle, locale=language) if m.id}

    french, english = entries("fr"), entries("en")
    assert set(french) == set(english)
    assert len(english) > 20
    assert [key for key, text in english.items() if not text] == []


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.split())  # table cells wrap: compare words, not lines


def test_monthly_pack_carries_the_wait_figures(waits_server):
    session = session_as(waits_server, "qualite")
    response = session.get(f"{waits_server.url}/reports/monthly.pdf")
    assert response.status_code == 200
    text = pdf_text(response.content)
    start = text.index("IRIS – guichet unique · Centre administratif municipal")
    iris = text[start : text.index("· ", text.index("Satisfaction selon l'attente mesurée", start))]
    assert "Temps d'attente" in iris
    assert "Engagement du service : recevoir en 10 min au plus." in iris
    assert re.search(r"Reçus en 10 min au plus \(engagement\) 88,9\s*% 9", iris)
    assert re.search(r"Attente au 90e centile .*? 30,0 min 9", iris)
    assert re.search(r"Partis sans être reçus 10,0\s*% 10", iris)
    assert "Affluence et attente par heure" in iris
    assert "10,0 (6)" in iris  # the heatmap's busy cell, drawn as text
    whole = text[start:]
    assert re.search(r"moins de 5 min 80,0\s*% 5", whole)
    # A desk with neither answers nor visits gets a line on the town page, no page of tables.
    assert "Sans réponse ni passage enregistré ce mois-ci (pas de page)" in text
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 2


def test_a_service_manager_never_sees_another_service_waits(waits_server):
    session = session_as(waits_server, "civil", "service_manager", [OTHER])
    denied = session.get(f"{waits_server.url}/service/{SERVICE}", follow_redirects=False)
    assert denied.status_code == 403
    assert "7,3\u00a0min" not in denied.text
    own = session.get(f"{waits_server.url}/service/{OTHER}")
    assert own.status_code == 200
    assert "Centre administratif municipal" not in waits_panel(own.text)
    text = pdf_text(session.get(f"{waits_server.url}/reports/monthly.pdf").content)
    assert "État civil" in text
    assert "IRIS" not in text
    assert "7,3 min" not in text
    assert "10,0 (6)" not in text
