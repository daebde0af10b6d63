"""What the quality manager reads of a figure, on the real app in-process: the targets set on
/targets everywhere (as they were entered), one line per figure in the exports, what N counts in
words, the 95 % interval written one way, participation that cannot pass 100 %, units on every
value, target and gap, and charts that draw each month's own target and French decimals.

Each month below is counted by hand; answers are kiosk answers at IRIS unless said otherwise.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from sync_server.indicators.periods import Period, containing
from sync_server.web import units
from tests.fixtures.server import SERVICE, SITE, set_target
from tests.fixtures.web import form_token
from tests.tools.desk_records import answers, served
from tests.tools.figure_reads import api_figures, overview_cards, page_rows
from tests.tools.page_text import text, text_of
from tests.tools.wait_month import fill_month

IRIS = (SITE, SERVICE)
FR = units.formats("fr")


def last_month() -> Period:
    return containing("month", datetime.now(UTC).date()).previous()


def day_of(month: Period, day: int = 10) -> datetime:
    """9:00 UTC on a day of `month` (a working hour in Paris)."""
    start = month.start + timedelta(days=day - 1)
    return datetime(start.year, start.month, start.day, 9, tzinfo=UTC)


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    pages = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(pages.split())  # table cells wrap: compare words, not lines


@pytest.fixture
def manager(app_server):
    """A quality manager's session on the app, and a getter of a page's text."""
    session = app_server.login_session(app_server.client())

    def get(path: str) -> str:
        response = session.get(f"{app_server.url}{path}")
        assert response.status_code == 200, (path, response.text[:300])
        return response.text

    return app_server.storage, session, get


def set_by_form(session, indicator: str, service: str, value: str) -> None:
    """A target set on /targets by the quality manager, in force since 2000."""
    token = form_token(session.get("/targets").text)
    posted = session.post("/targets", data={"csrf_token": token, "indicator": indicator,
                          "service": service, "value": value, "valid_from": "2000-01-01"},
                          follow_redirects=False)  # fmt: skip
    assert posted.status_code == 303


def test_the_api_reads_the_targets_and_previous_values_the_pages_show(manager):
    storage, session, get = manager
    month = last_month()
    # Both months: the hand-computed visits of tests/tools/wait_month.py (served waits 1 2 2 3
    # 4 6 8 10 30, one walk-out) and their six linked phone answers (4 satisfied); last month
    # 10 more satisfied at the kiosk: 14 of 16 = 87.5 %.
    fill_month(storage, month.previous().start)
    fill_month(storage, month.start)
    answers(storage, ["satisfied"] * 10, day_of(month))
    set_by_form(session, "satisfaction_rate", SERVICE, "87,5")
    set_by_form(session, "p90_wait_minutes", "", "25")
    body = session.get(f"/api/v1/indicators?from={month.key}&to={month.key}").json()
    figures = api_figures(body)[IRIS]
    rate, p90 = figures["satisfaction_rate"], figures["p90_wait_minutes"]
    assert (rate.value, rate.target, rate.gap) == (87.5, 87.5, 0.0)
    assert (p90.value, p90.target, p90.gap) == (30.0, 25.0, 5.0)
    for key in ("visits", "p90_wait_minutes", "max_wait_minutes", "within_threshold_rate",
                "walk_out_rate", "unknown_outcomes", "answers"):  # fmt: skip
        assert figures[key].previous is not None, key
    # Every figure the service page shows has the API's previous value, target and gap.
    rows = page_rows(get(f"/service/{SERVICE}?kind=month&period={month.key}"))[SITE]
    assert {"answers", "satisfaction_rate", "score", "p90_wait_minutes", "visits"} <= set(rows)
    for key, cells in rows.items():
        f = figures[key]
        assert cells[3:6] == [
            FR["figure_value"](f.previous, f.unit),
            FR["target_value"](f.target, f.unit),
            FR["gap_value"](f.gap, f.gap_unit),
        ], key
    assert rows["satisfaction_rate"][4:6] == ["87,5\u202f%", "0,0\u00a0pts"]
    assert rows["p90_wait_minutes"][3:6] == ["30,0\u00a0min", "25\u00a0min", "+5,0\u00a0min"]


def test_the_indicator_export_has_one_overall_satisfaction_line_per_desk(manager):
    storage, session, _get = manager
    month = last_month()
    answers(storage, ["satisfied"] * 9 + ["dissatisfied"], day_of(month))
    set_target(storage, "satisfaction_rate", SERVICE, 95, date(2000, 1, 1))
    query = f"kind=month&period={month.key}"
    content = session.get(f"/export/indicators.csv?{query}").content.decode("utf-8-sig")
    lines = list(csv.DictReader(io.StringIO(content), delimiter=";"))
    overall = [line for line in lines if (line["Code du site"], line["Code du service"]) == IRIS
               and line["Indicateur"] == "Satisfaction globale"]  # fmt: skip
    assert [(line["Valeur"], line["Objectif"], line["Écart"]) for line in overall] == [
        ("90,0", "95,0", "-5,0")
    ]  # fmt: skip
    assert overall[0]["Code de l'indicateur"] == "satisfaction_rate"
    book = load_workbook(io.BytesIO(session.get(f"/export/indicators.xlsx?{query}").content))
    sheet = list(book["Indicateurs"].iter_rows(values_only=True))
    named = [row for row in sheet[1:] if row[-2:] == IRIS and row[3] == "Satisfaction globale"]
    assert [(row[-3], row[9]) for row in named] == [("satisfaction_rate", 95)]


def test_a_target_reads_as_it_was_entered(manager):
    storage, session, get = manager
    month = last_month()
    answers(storage, ["satisfied"] * 6, day_of(month))  # 100 %: only the target says 87,5
    set_by_form(session, "satisfaction_rate", SERVICE, "87,5")
    card = overview_cards(get(f"/?kind=month&period={month.key}"))[IRIS]
    assert "Objectif 87,5\u202f% · écart +12,5\u00a0pts" in card["text"]
    pack = pdf_text(session.get(f"/reports/monthly.pdf?period={month.key}").content)
    town_page = pack[pack.index("Chaque guichet face à ses objectifs") :]
    assert re.search(r"IRIS – guichet unique Centre administratif municipal 100,0\s*% 6 — 87,5\s*%",
                     town_page)  # fmt: skip
    targets_page = text(get("/targets"))
    assert "87,5" in targets_page


def test_what_n_counts_is_said_with_both_counts(manager):
    storage, session, get = manager
    month = last_month()
    # 28 satisfied, 3 dissatisfied and 3 "no opinion": 34 answers, 31 expressed.
    answers(storage, ["satisfied"] * 28 + ["dissatisfied"] * 3 + ["no_opinion"] * 3, day_of(month))
    card = overview_cards(get(f"/?kind=month&period={month.key}"))[IRIS]
    assert "Réponses reçues 34 (dont 3 « sans avis »)" in card["text"]
    assert "Avis exprimés (N des taux) 31" in card["text"]
    rows = page_rows(get(f"/service/{SERVICE}?kind=month&period={month.key}"))[SITE]
    assert rows["answers"][:3] == ["Réponses reçues (« sans avis » compris)", "34", "34"]
    assert rows["expressed_answers"][:3] == ["Avis exprimés (« sans avis » exclus)", "31", "31"]
    assert rows["satisfaction_rate"][2] == "31"
    quarter = containing("quarter", month.start).key
    poster = pdf_text(session.get(f"/reports/poster/{SERVICE}.pdf?quarter={quarter}").content)
    assert "Sur 31 avis exprimés (34 réponses reçues, dont 3 « sans avis »)." in poster
    pack = pdf_text(session.get(f"/reports/monthly.pdf?period={month.key}").content)
    assert "N (avis exprimés)" in pack


def test_the_interval_is_written_one_way_everywhere(manager):
    storage, session, get = manager
    month = last_month()
    answers(storage, ["satisfied"] * 27 + ["dissatisfied"] * 4, day_of(month))  # 27 of 31
    interval = "71,1 – 94,9\u202f%"  # Wilson, 27 of 31
    card = overview_cards(get(f"/?kind=month&period={month.key}"))[IRIS]
    assert f"Intervalle de confiance à 95 % {interval}" in card["text"]
    service = get(f"/service/{SERVICE}?kind=month&period={month.key}")
    assert f"Intervalle de confiance à 95 % : {interval}" in text_of(service)
    pack = pdf_text(session.get(f"/reports/monthly.pdf?period={month.key}").content)
    assert re.search(r"Intervalle de confiance à 95 % : 71,1 – 94,9\s*%", pack)
    for shown in (text_of(get(f"/?kind=month&period={month.key}")), text_of(service), pack):
        assert "±" not in shown
        assert "Marge d'erreur" not in shown


def test_all_satisfied_still_has_a_margin(manager):
    storage, session, get = manager
    month = last_month()
    answers(storage, ["satisfied"] * 17, day_of(month))
    card = overview_cards(get(f"/?kind=month&period={month.key}"))[IRIS]
    assert "Intervalle de confiance à 95 % 81,6 – 100,0\u202f%" in card["text"]
    body = session.get(f"/api/v1/indicators?kind=month&period={month.key}").json()
    margin = api_figures(body)[IRIS]["margin_of_error"]
    assert (round(margin.value, 2), round(margin.low, 1), margin.high) == (9.22, 81.6, 100.0)


def test_participation_never_reads_above_100_percent(manager):
    storage, session, get = manager
    month = last_month()
    answers(storage, ["satisfied"] * 34, day_of(month))
    served(storage, [3] * 25, day_of(month))  # 25 visitors recorded, 34 answers
    card = overview_cards(get(f"/?kind=month&period={month.key}"))[IRIS]
    assert (
        "Taux de participation — (plus de réponses que de visiteurs enregistrés : non "
        "calculable)" in card["text"]
    )
    rows = page_rows(get(f"/service/{SERVICE}?kind=month&period={month.key}"))[SITE]
    assert rows["participation_rate"][1:3] == ["—", "25"]
    assert "plus de réponses que de visiteurs enregistrés par les agents" in (
        rows["participation_rate"][-1]
    )  # fmt: skip
    body = session.get(f"/api/v1/indicators?kind=month&period={month.key}").json()
    participation = api_figures(body)[IRIS]["participation_rate"]
    assert (participation.value, participation.reason) == (None, "more_answers_than_visitors")
    assert "136" not in text_of(get(f"/?kind=month&period={month.key}"))


def test_the_annual_review_gives_every_value_target_and_gap_its_unit(manager):
    storage, _session, get = manager
    year = last_month().start.year
    at = datetime(year, 3, 10, 9, tzinfo=UTC)
    if at > datetime.now(UTC):
        at = day_of(last_month())
    # The "Temps d'attente" question: 3 satisfied of 5 (60 %); waits 7.3 min on average.
    waits = ["satisfied"] * 3 + ["dissatisfied"] * 2
    for index, wait in enumerate(waits):
        given = {"overall": "satisfied", "waiting": wait}
        answers(storage, [None], at + timedelta(minutes=index), answers=given)
    fill_month(storage, containing("month", at.date()).start)
    set_target(storage, "mean_wait_minutes", SERVICE, 5, date(2000, 1, 1))
    page = get(f"/review?year={year}")

    def miss(indicator: str) -> str:
        found = re.search(rf'data-indicator="{indicator}">(.*?)</li>', page, re.S)
        assert found, indicator
        return text_of(found.group(1))

    waiting = miss("question:waiting")
    assert "Temps d'attente : 60,0\u202f% · objectif 90\u202f% · écart −30,0\u00a0pts" in waiting
    assert not re.search(r"\d\smin", waiting)  # a rate, not minutes
    assert "Attente moyenne : 7,3\u00a0min · objectif 5\u00a0min · écart +2,3\u00a0min" in miss(
        "mean_wait_minutes"
    )  # fmt: skip
    service = get(f"/service/{SERVICE}?kind=year&period={year}")
    assert "Écart (pts)" not in service
    assert page_rows(service)[SITE]["mean_wait_minutes"][5] == "+2,3\u00a0min"


def test_the_trend_draws_each_month_against_its_own_target(manager):
    storage, _session, get = manager
    month = last_month()
    before = month.previous()
    answers(storage, ["satisfied"] * 7 + ["dissatisfied"], day_of(before))  # 87.5 %
    answers(storage, ["satisfied"] * 10, day_of(month))  # 100 %
    set_target(storage, "satisfaction_rate", None, 80, date(2000, 1, 1))
    set_target(storage, "satisfaction_rate", None, 95, month.start)
    page = get(f"/service/{SERVICE}?kind=month&period={month.key}")
    trend = re.search(r"<title>Satisfaction globale sur 12 mois · Centre administratif "
                      r"municipal</title><desc>(.*?)</desc>", page, re.S)  # fmt: skip
    assert trend
    described = text_of(trend.group(1))
    assert "87,5\u202f% (objectif 80\u202f%)" in described
    assert "100,0\u202f% (objectif 95\u202f%)" in described
    assert "87.5" not in described
    assert "Objectif en vigueur chaque mois" in page  # two targets in the year: no single one


def test_the_heatmap_draws_no_scale_when_every_mean_is_hidden(manager):
    storage, _session, get = manager
    month = last_month()
    served(storage, [4, 6], day_of(month, 10))  # two measured waits in one hour: hidden
    served(storage, [8], day_of(month, 11))
    page = get(f"/service/{SERVICE}?kind=month&period={month.key}")
    heat = re.search(r'<figure class="chart-box heatmap">(.*?)</figure>', page, re.S)
    assert heat
    svg = heat.group(1)
    assert "Attente moyenne (min)" not in svg  # no colour scale
    assert not re.search(r">\s*[01]\.0\s*<", svg)
