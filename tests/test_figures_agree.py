"""One computed figure, read the same wherever it is shown: the JSON API, the service page, the
overview, the indicator CSV, the context the PDF templates get (monthly pack, annual review,
poster) and the kiosk's published result, compared field by field — value, N, previous,
target, gap, unit, interval — for every desk of the demo town and each period kind, on SQLite
and on PostgreSQL.

The demo town's generated quarter of answers and visits is ingested through the real storage;
targets are set per service, town-wide, on waits and from last month on (so that months differ).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sync_server.api.config import published_results
from sync_server.app import create_app
from sync_server.demo.command import ingest_batch
from sync_server.demo.data import generate
from sync_server.indicators.formulas import Figure
from sync_server.indicators.periods import Period, containing, default_period, parse
from sync_server.settings import Settings
from sync_server.storage import Storage, surveys, users
from sync_server.web import annual_review, labels, monthly_pack, units
from sync_server.web.figures import today as town_today
from sync_server.web.templating import environment
from tests.fixtures.server import TOWN, log_in_client, open_town_storage, server_settings_for
from tests.fixtures.server import set_target as target_from
from tests.tools.figure_reads import (
    DeskKey,
    api_figures,
    csv_lines,
    number,
    overview_cards,
    page_rows,
)

FR = units.formats("fr")
NUMBER = environment("fr").filters["number"]
DESKS = [(desk["site"], desk["service"]) for desk in TOWN["desks"]]
SERVICES = sorted({service for _site, service in DESKS})
# What every desk's figures table shows, whatever the desk measures.
DESK_TABLE = {"answers", "expressed_answers", "satisfaction_rate", "net_satisfaction", "score",
              "good_score_share", "participation_rate", "mean_wait_minutes",
              "median_wait_minutes", "acknowledged_on_time", "answered_on_time"}  # fmt: skip

Figures = dict[DeskKey, dict[str, Figure]]


@pytest.fixture
def demo(storage_url: str, tmp_path) -> Iterator[tuple[TestClient, Storage, Settings]]:
    """The app on each engine with the demo town's generated data and a few targets."""
    settings = server_settings_for(tmp_path, database_url=storage_url)
    storage = open_town_storage(settings)
    with storage.read() as connection:
        survey = surveys.current(connection)
    for batch in generate(TOWN, survey, datetime.now(UTC), seed=11).batches:
        ingest_batch(storage, batch)
    last_month = containing("month", town_today(settings)).previous().start
    target_from(storage, "satisfaction_rate", "ccas", 87.5, date(2000, 1, 1))
    target_from(storage, "within_threshold_rate", None, 85, date(2000, 1, 1))
    target_from(storage, "mean_wait_minutes", "iris", 6.5, date(2000, 1, 1))
    target_from(storage, "question_rate", None, 88.5, last_month)
    target_from(storage, "satisfaction_rate", None, 92.5, last_month)
    with TestClient(create_app(settings, storage)) as client:
        log_in_client(client, "qualite")
        yield client, storage, settings
    storage.close()


def periods_of(today: date) -> dict[str, Period]:
    """A period of each kind within the demo's three months of data."""
    campaign = f"{today - timedelta(days=60)}..{today - timedelta(days=20)}"
    return {
        "week": containing("week", today - timedelta(days=14)),
        "month": default_period("month", today),
        "quarter": containing("quarter", today - timedelta(days=45)),
        "year": containing("year", today - timedelta(days=45)),
        "campaign": parse("campaign", campaign),
    }


def test_every_figure_reads_the_same_everywhere(demo):
    client, storage, settings = demo
    with storage.read() as connection:
        manager = users.get(connection, "qualite")
    for kind, period in periods_of(town_today(settings)).items():
        query = f"kind={kind}&period={period.key}"
        response = client.get(f"/api/v1/indicators?{query}")
        assert response.status_code == 200, (kind, response.text)
        api = api_figures(response.json())
        assert sorted(api) == sorted(DESKS), kind
        for desk, figures in api.items():
            # N of a rate is the expressed answers; the answers count "no opinion" too.
            assert figures["satisfaction_rate"].n == figures["expressed_answers"].value, desk
            assert figures["answers"].value >= figures["expressed_answers"].value, desk
            assert all(f.unit and f.gap_unit and f.n_counts for f in figures.values()), desk
        csv_agrees(api, client.get(f"/export/indicators.csv?{query}").content, kind)
        pages_agree(api, client, query, kind)
        overview_agrees(api, client.get(f"/?{query}").text, kind)
        reports_agree(api, storage, settings, manager, period, kind)
    kiosk_agrees(client, storage, settings)


def same(first: Figure, second: Figure) -> bool:
    return dataclasses.asdict(first) == dataclasses.asdict(second)


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def csv_agrees(api: Figures, content: bytes, kind: str) -> None:
    lines = csv_lines(content)
    for (site, service), figures in api.items():
        assert {key for s, v, key in lines if (s, v) == (site, service)} == set(figures)
        for key, f in figures.items():
            line = lines[(site, service, key)]
            where = (kind, site, service, key)
            assert number(line["Valeur"]) == rounded(f.value), where
            assert int(line["N"]) == f.n, where
            assert number(line["Période précédente"]) == rounded(f.previous), where
            assert number(line["Objectif"]) == f.target, where
            assert number(line["Écart"]) == rounded(f.gap), where
            assert line["Unité"] == labels.UNIT_NAMES[f.unit], where
            assert line["Unité de l'écart"] == labels.UNIT_NAMES[f.gap_unit], where
            assert line["N compte"] == labels.COUNTED_NAMES[f.n_counts], where
            low, high = line["Intervalle à 95 % : bas"], line["Intervalle à 95 % : haut"]
            assert (number(low), number(high)) == (rounded(f.low), rounded(f.high)), where
            # Why a figure is hidden, in a sentence with its N; nothing when shown.
            reason = line["Masqué (raison)"]
            assert bool(reason) == (f.reason is not None), where
            if f.reason == "below_min_n":
                assert reason.startswith("Masqué : moins de "), where
                assert f"(N = {f.n})" in reason, where


def pages_agree(api: Figures, client: TestClient, query: str, kind: str) -> None:
    for service in SERVICES:
        response = client.get(f"/service/{service}?{query}")
        assert response.status_code == 200, (kind, service)
        shown = page_rows(response.text)
        assert sorted(shown) == sorted(site for site, s in DESKS if s == service), service
        for site, rows in shown.items():
            figures = api[(site, service)]
            assert set(rows) >= DESK_TABLE, (kind, site, service)
            for key, cells in rows.items():
                f, where = figures[key], (kind, site, service, key)
                expected = [
                    FR["measure"](f),
                    NUMBER(f.n),
                    FR["figure_value"](f.previous, f.unit),
                    FR["target_value"](f.target, f.unit),
                    FR["gap_value"](f.gap, f.gap_unit),
                ]
                assert cells[1:6] == expected, where
                if f.low is not None and key == "satisfaction_rate":
                    assert FR["interval"](f) in cells[-1], where


def overview_agrees(api: Figures, page: str, kind: str) -> None:
    cards = overview_cards(page)
    assert sorted(cards) == sorted(DESKS), kind
    for desk, card in cards.items():
        figures, rate = api[desk], api[desk]["satisfaction_rate"]
        for key, text in card.items():
            where = (kind, desk, key)
            if key == "text":
                continue
            if key == "satisfaction_rate:target":
                target = FR["target_value"](rate.target, rate.unit)
                assert text == f"Objectif {target} · écart {FR['gap_value'](rate.gap, 'pts')}"
            elif key == "satisfaction_rate:previous":
                assert text == f"Période précédente : {FR['figure_value'](rate.previous, '%')}"
            elif key == "margin_of_error":
                assert text.split(" ⚠")[0] == FR["interval"](rate), where
            else:
                assert text.split(" (")[0] == FR["measure"](figures[key]), where
        none = int(figures["answers"].value - figures["expressed_answers"].value)
        assert f"(dont {none} « sans avis »)" in card["answers"], desk


def reports_agree(
    api: Figures, storage: Storage, settings: Settings, manager: Any, period: Period, kind: str
) -> None:
    """The figures the report templates are given are the API's, field by field: the monthly
    pack's town page and desk pages, the annual review's rows and misses. (A poster reads the
    same `desk_figures` for its one desk.)"""
    pack = monthly_pack.monthly_context(storage, settings, manager, period, "fr")
    rows = [line.row for line in pack["lines"]] + pack["quiet"]
    assert sorted((r.site, r.service) for r in rows) == sorted(DESKS)
    review = annual_review.annual_context(storage, settings, manager, period, "fr")
    assert sorted((r.site, r.service) for r in review["rows"]) == sorted(DESKS)
    for mode, found in (("monthly", rows), ("annual", review["rows"])):
        for row in found:
            for key, figure in row.every_figure().items():
                assert same(figure, api[(row.site, row.service)][key]), (kind, mode, key)
    for desk, summary in pack["waits"].items():
        for shown in summary["figures"]:
            assert same(shown["figure"], api[desk][shown["key"]]), (kind, desk)
    for miss in review["misses"]:
        desk = (miss["row"].site, miss["row"].service)
        assert same(miss["figure"], api[desk][miss["indicator"]]), (kind, desk)


def kiosk_agrees(client: TestClient, storage: Storage, settings: Settings) -> None:
    """The kiosk's published result is last month's satisfaction figure of the API."""
    month = default_period("month", town_today(settings))
    body = client.get(f"/api/v1/indicators?kind=month&period={month.key}").json()
    api = api_figures(body)
    for site, service in DESKS:
        published = published_results(storage, settings, site, service, datetime.now(UTC))
        rate = api[(site, service)]["satisfaction_rate"]
        if rate.hidden:
            assert published is None, (site, service)
            continue
        assert published == {
            "period": month.key,
            "satisfaction_rate": round(rate.value, 1),
            "answers": rate.n,
            "target": rate.target,
        }, (site, service)
