"""The PDF reports read back page by page (pypdf) from the real app: the monthly pack's town page
and desk pages, the annual review against the year before, the posters per site, and the layout
in a worker process that leaves the other pages served."""

from __future__ import annotations

import io
import os
import re
import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from pypdf import PdfReader

from sync_server.indicators.periods import Period, containing, parse
from sync_server.web.annual_review import day_in_words
from sync_server.web.figures import today
from sync_server.web.period_choice import period_label
from tests.fixtures.server import SERVICE, SITE
from tests.tools import pool_jobs
from tests.tools.desk_records import answers, served

CIVIL = ("hotel-de-ville", "etat-civil")
CHARTREUX = ("mediatheque-chartreux", "mediatheques")
TOWN = "Issy-les-Moulineaux"
IRIS_NAME = "IRIS – guichet unique"


def pdf_pages(content: bytes) -> list[str]:
    assert content.startswith(b"%PDF"), content[:200]
    pages = PdfReader(io.BytesIO(content)).pages
    return [" ".join(page.extract_text().split()) for page in pages]


def noon(day: date, days: int = 3) -> datetime:
    return datetime.combine(day, time(10), tzinfo=UTC) + timedelta(days=days)


@pytest.fixture
def town(app_server):
    """Last month: 9 satisfied + 1 dissatisfied at IRIS (6 satisfied the month before) and 6
    satisfied at État civil; no other desk has an answer or a visit."""
    month = containing("month", today(app_server.settings)).previous()
    answers(app_server.storage, ["satisfied"] * 9 + ["dissatisfied"], noon(month.start))
    answers(app_server.storage, ["satisfied"] * 6, noon(month.previous().start))
    answers(app_server.storage, ["satisfied"] * 6, noon(month.start), desk=CIVIL)
    served(app_server.storage, [3, 5, 7, 9, 20], noon(month.start))
    client = app_server.login_session(app_server.client())
    return app_server, client, month


def monthly(client, month: Period) -> list[str]:
    response = client.get(f"/reports/monthly.pdf?period={month.key}")
    assert response.status_code == 200
    return pdf_pages(response.content)


def test_the_monthly_pack_is_a_town_page_then_one_page_per_desk_with_data(town):
    _server, client, month = town
    pages = monthly(client, month)
    assert len(pages) == 1 + 2  # the town, IRIS, État civil
    first = pages[0]
    # Every desk with data against its target, with the month before.
    assert re.search(rf"{IRIS_NAME} Centre administratif municipal 90,0\s*% 10 100,0\s*% 90\s*%",
                     first)  # fmt: skip
    assert re.search(r"État civil Hôtel de Ville 100,0\s*% 6 — 90\s*%", first)
    assert re.search(r"93,8\s*% de satisfaction globale \(N = 16 avis exprimés\)", first)
    # The desks without answers nor visits: one line, no page.
    quiet = first[first.index("Sans réponse ni passage") :]
    assert "Logement · Centre administratif municipal" in quiet
    # Each desk's page opens with its name (the margins' text comes last).
    assert [page.split(" Indicateurs ")[0] for page in pages[1:]] == [
        f"{IRIS_NAME} · Centre administratif municipal",
        "État civil · Hôtel de Ville",
    ]
    assert "Registre des commentaires et réclamations" in first
    assert "Aucune alerte ce mois-ci." in first


def test_a_desk_page_ranks_its_reasons_and_quotes_masked_comments_never_a_held_one(town):
    server, client, month = town
    at = noon(month.start, days=5)
    why = {"overall": "dissatisfied", "why_unhappy": ["waiting", "premises"]}
    answers(server.storage, ["dissatisfied"] * 2, at, answers=why)
    answers(server.storage, ["dissatisfied"], at, answers=why, comment="Trop d'attente.")
    answers(server.storage, ["dissatisfied"], at, answers={**why, "why_unhappy": ["waiting"]},
            comment="Quelle bande d'abrutis au guichet.")  # fmt: skip
    answers(server.storage, ["satisfied"], at, comment="Dossier 0612 345 678 réglé, merci.")
    iris = monthly(client, month)[1]
    reasons = iris[iris.index("Raisons d'insatisfaction") :]
    # 4 visitors named the wait, 3 the premises: of the 7 reasons chosen, 57,1 % and 42,9 %.
    assert re.search(r"L'attente 4 57,1\s*% Les locaux 3 42,9\s*%", reasons)
    said = iris[iris.index("Ce que disent les usagers") :]
    assert "« Trop d'attente. »" in said
    assert "« Dossier ▒▒▒ réglé, merci. »" in said
    assert "abrutis" not in iris  # held for the quality manager's review


def test_a_desk_page_sets_the_declared_waits_against_the_measured_ones(town):
    server, client, month = town
    at = noon(month.start, days=6)
    for visit_id in served(server.storage, [12, 14, 20, 25, 40], at):
        said = {"overall": "satisfied", "wait_band": "5to15"}
        answers(server.storage, ["satisfied"], at + timedelta(hours=1), answers=said,
                channel="phone", visit_id=visit_id)  # fmt: skip
    iris = monthly(client, month)[1]
    said = iris[iris.index("Attente déclarée et attente mesurée") :]
    # Five said "5 to 15 minutes"; the agents measured a median of 20 minutes for them.
    assert re.search(r"5 à 15 minutes 5 5 20,0\s*min", said)


def test_every_page_has_the_period_and_the_generation_date(town):
    server, client, month = town
    pages = monthly(client, month)
    label = period_label(month, "fr")
    made = f"Édité le {today(server.settings):%d/%m/%Y}"
    assert len(pages) > 1
    for page in pages:
        assert f"Dossier mensuel Qualivilles · {label}" in page
        assert made in page
        assert TOWN in page


def test_the_annual_review_compares_the_year_with_the_one_before_as_the_api_does(app_server):
    storage = app_server.storage
    year = today(app_server.settings).year - 1
    answers(storage, ["satisfied"] * 8 + ["dissatisfied"] * 2, noon(date(year, 3, 1)))
    answers(storage, ["satisfied"] * 6, noon(date(year - 1, 5, 1)))
    served(storage, [3, 5, 7, 9, 11, 20], noon(date(year, 3, 1)))
    served(storage, [3, 5, 7, 9, 11], noon(date(year - 1, 5, 1)))
    client = app_server.login_session(app_server.client())
    pages = pdf_pages(client.get(f"/reports/annual.pdf?year={year}").content)
    text = " ".join(pages)
    assert "Année en cours" not in text

    def api(period: int) -> dict:
        body = client.get(f"/api/v1/indicators?kind=year&period={period}").json()
        [row] = [r for r in body["rows"] if (r["site"], r["service"]) == (SITE, SERVICE)]
        return row["figures"]

    def shown(figure: dict) -> str:
        return f"{figure['value']:.1f}".replace(".", ",") + r"\s*% " + str(figure["n"])

    now, before = api(year), api(year - 1)
    cells = [shown(f[key]) for key in ("satisfaction_rate",) for f in (now, before)]
    cells += [shown(f[key]) for key in ("within_threshold_rate",) for f in (now, before)]
    assert re.search(rf"{IRIS_NAME} Centre administratif municipal " + " ".join(cells), text)
    assert (now["satisfaction_rate"]["value"], before["satisfaction_rate"]["value"]) == (80, 100)
    # Month by month: March at 80 %, the months without answers masked.
    assert "Satisfaction globale mois par mois" in text
    assert re.search(rf"{IRIS_NAME} Centre administratif municipal — — 80 —", text)


def test_the_current_year_says_it_is_incomplete(app_server):
    on = today(app_server.settings)
    answers(app_server.storage, ["satisfied"] * 6, noon(containing("month", on).start, 0))
    client = app_server.login_session(app_server.client())
    text = " ".join(pdf_pages(client.get(f"/reports/annual.pdf?year={on.year}").content))
    first = "1er janvier" if on.month > 1 or on.day > 1 else day_in_words(on, "fr")
    assert f"Année en cours : données du {first} au {day_in_words(on, 'fr')}." in text
    assert f"Édité le {on:%d/%m/%Y}" in text


def test_the_annual_review_sums_up_the_register_by_service(app_server):
    storage = app_server.storage
    year = today(app_server.settings).year - 1
    answers(storage, ["dissatisfied"] * 2, noon(date(year, 3, 2)), comment="Trop d'attente")
    client = app_server.login_session(app_server.client())
    text = " ".join(pdf_pages(client.get(f"/reports/annual.pdf?year={year}").content))
    # Two entries received, never acknowledged nor answered: both late on each step.
    assert re.search(rf"Traitement des commentaires et réclamations {year}", text)
    assert re.search(rf"{IRIS_NAME} 2 0 0 2 Total 2 0 0 2", text)


@pytest.fixture
def posters(app_server):
    quarter = containing("quarter", today(app_server.settings)).previous()
    answers(app_server.storage, ["satisfied"] * 5 + ["no_opinion"], noon(quarter.start),
            desk=CHARTREUX)  # fmt: skip
    client = app_server.login_session(app_server.client())
    return client, quarter


def test_a_poster_per_site_with_the_town_and_the_period_in_words(posters):
    client, quarter = posters
    url = f"/reports/poster/mediatheques.pdf?quarter={quarter.key}"
    [page] = pdf_pages(client.get(f"{url}&site={CHARTREUX[0]}").content)
    assert TOWN in page
    assert "Médiathèques · Médiathèque des Chartreux" in page
    assert "Centre-ville" not in page
    assert "Saint-Germain" not in page
    months = {1: "Janvier – mars", 4: "Avril – juin", 7: "Juillet – septembre",
              10: "Octobre – décembre"}  # fmt: skip
    assert f"{months[quarter.start.month]} {quarter.start.year}" in page
    assert "Sur 5 avis exprimés (6 réponses reçues, dont 1 « sans avis »)." in page
    # A site without answers gets no poster, never "0 avis"; nor does a service without a site.
    empty = client.get(f"{url}&site=mediatheque-centre-ville")
    assert empty.status_code == 404
    assert "aucun avis" in empty.text
    assert "0 avis" not in empty.text
    assert client.get(url).status_code == 404
    # The service page offers one poster per site.
    page = client.get(f"/service/mediatheques?kind=quarter&period={quarter.key}").text
    links = re.findall(r'href="(/reports/poster/mediatheques\.pdf[^"]*)"', page)
    sites = sorted(re.search(r"site=([a-z-]+)", link).group(1) for link in links)
    assert sites == ["mediatheque-centre-ville", "mediatheque-chartreux",
                     "mediatheque-ile-saint-germain"]  # fmt: skip


MONTHLY = "/reports/monthly.pdf"


def test_an_overview_is_served_while_a_pdf_is_laid_out_in_another_process(town, tmp_path):
    server, client, _month = town
    pool = server.app.state.pdf_pool
    gate, found = tmp_path / "gate", {}
    with pool_jobs.holding(gate):
        # The one worker is busy until the gate opens: the PDF asked now waits behind it.
        busy = pool.executor().submit(pool_jobs.pid_when_free, str(gate))
        asking = threading.Thread(target=lambda: found.update(pdf=client.get(MONTHLY)))
        asking.start()
        overview = client.get("/")
        assert overview.status_code == 200
        assert "pdf" not in found  # the overview did not wait for it
        assert asking.is_alive()
    asking.join()
    assert found["pdf"].status_code == 200
    assert pdf_pages(found["pdf"].content)
    assert busy.result() != os.getpid()  # the layout runs in another process


def test_a_worker_that_dies_gives_a_clear_503_and_the_next_pdf_is_built(town, tmp_path):
    server, client, _month = town
    pool = server.app.state.pdf_pool
    gate, found = tmp_path / "gate", {}
    with pool_jobs.holding(gate):
        pool.executor().submit(pool_jobs.die_when_free, str(gate))
        asking = threading.Thread(target=lambda: found.update(pdf=client.get(MONTHLY)))
        asking.start()
        assert client.get("/").status_code == 200
    asking.join()
    lost = found["pdf"]
    assert lost.status_code == 503
    assert lost.headers["content-type"].startswith("application/problem+json")
    assert lost.json()["code"] == "pdf_unavailable"
    again = client.get(MONTHLY)
    assert again.status_code == 200
    assert pdf_pages(again.content)


def test_the_reports_html_loses_the_spaces_between_blocks_and_keeps_those_between_words():
    from sync_server.web.pages.reports import without_block_spaces

    html = (
        '<section class="page">\n  <h2>IRIS</h2>\n  <table>\n    <tr><th>Accueil</th>\n'
        '<td><span class="mark">✗</span> <b>Sous</b>\n<i>l\'objectif</i></td></tr>\n  </table>\n'
        "<p>3 avis <span>(N = 3)</span>\n</p>\n</section>"
    )
    assert without_block_spaces(html) == (
        '<section class="page"><h2>IRIS</h2><table><tr><th>Accueil</th>'
        '<td><span class="mark">✗</span> <b>Sous</b>\n<i>l\'objectif</i></td></tr></table>'
        "<p>3 avis <span>(N = 3)</span>\n</p></section>"
    )


def test_a_period_in_words_names_the_quarters_months():
    from sync_server.web.period_choice import period_in_words

    assert period_in_words(parse("quarter", "2026-Q2"), "fr") == "Avril – juin 2026"
    assert period_in_words(parse("quarter", "2026-Q4"), "en") == "October – December 2026"
    assert period_in_words(parse("month", "2026-03"), "fr") == "Mars 2026"
