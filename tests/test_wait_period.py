"""Waiting figures of a desk for a period through the indicator pipeline on a real SQLite file,
checked against the desk figures the rest of the dashboard shows (the pure functions are tested
in test_indicator_figures and test_indicator_formulas)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from sync_server.indicators import pipeline
from sync_server.indicators.formulas import Cell
from sync_server.indicators.periods import parse
from sync_server.indicators.query import DESK, WAITS, IndicatorQuery, Rules, Scope
from sync_server.storage import Source, devices
from tests.fixtures.server import SERVICE, SITE, set_target
from tests.tools.wait_month import fill_month

PARIS = ZoneInfo("Europe/Paris")
TABLET = Source(site=SITE, service=SERVICE, channel="tablet")
PHONE = Source(site=SITE, service=SERVICE, channel="phone")
THRESHOLD = 10  # IRIS's "délai d'attente" in the demo town file


# -- Through storage ---------------------------------------------------------------------------


def test_compute_from_storage_matches_the_desk_figures(server_storage):
    month = parse("month", "2026-03")
    fill_month(server_storage, month.start)
    fill_month(server_storage, month.previous().start)  # the same month before: previous
    with server_storage.write() as connection:
        code = devices.create(connection, site=SITE, service=SERVICE, mode="tablet")
        devices.enrol(connection, code.code, app_version="test")
        # A tablet handed out but never enrolled does not count as the desk's tablet.
        devices.create(connection, site="hotel-de-ville", service="etat-civil", mode="tablet")
    desks = pipeline.compute(server_storage, IndicatorQuery(month, parts=WAITS))
    by_key = {(d.site, d.service): d for d in desks}
    iris = by_key[(SITE, SERVICE)]
    figures = iris.figures
    assert iris.measured
    assert iris.has_tablet
    assert iris.threshold_minutes == THRESHOLD
    assert figures["visits"].value == 10
    assert figures["mean_wait_minutes"].value == pytest.approx(66 / 9)
    assert figures["mean_wait_minutes"].previous == pytest.approx(66 / 9)
    assert figures["median_wait_minutes"].value == 4
    assert figures["p90_wait_minutes"].value == 30
    assert figures["within_threshold_rate"].value == pytest.approx(100 * 8 / 9)
    assert figures["walk_out_rate"].value == pytest.approx(10.0)
    cells = {(c.weekday, c.hour): c for c in iris.cells}
    assert cells["tue", 9] == Cell("tue", 9, arrivals=6, waits=6, mean_wait_minutes=10.0)
    assert cells["wed", 14] == Cell("wed", 14, arrivals=4, waits=3, mean_wait_minutes=None)
    assert [(b.key, b.rate.value, b.rate.n) for b in iris.bands] == [
        ("0_5", 80.0, 5), ("5_10", None, 0), ("10_20", None, 0), ("20_plus", None, 1)
    ]  # fmt: skip
    # One computation: the mean and median read the same as the desk's figures table.
    row = next(
        r for r in pipeline.compute(server_storage, IndicatorQuery(month, parts=DESK))
        if (r.site, r.service) == (SITE, SERVICE)
    )  # fmt: skip
    for key in ("mean_wait_minutes", "median_wait_minutes"):
        assert row.figures[key].value == figures[key].value
        assert row.figures[key].n == figures[key].n
    assert not by_key[("hotel-de-ville", "etat-civil")].has_tablet
    # A desk with neither visits nor a tablet.
    ccas = by_key[("centre-administratif", "ccas")]
    assert not ccas.measured
    assert not ccas.has_tablet
    assert ccas.cells == []
    assert ccas.linked_answers == 0


def test_compute_filters_services_and_applies_the_wait_target(server_storage):
    month = parse("month", "2026-03")
    fill_month(server_storage, month.start)
    set_target(server_storage, "mean_wait_minutes", SERVICE, 5, date(2026, 1, 1))
    desks = pipeline.compute(
        server_storage, IndicatorQuery(month, Scope.of(services=["etat-civil"]), parts=WAITS)
    )
    assert {d.service for d in desks} == {"etat-civil"}
    iris = pipeline.compute(
        server_storage, IndicatorQuery(month, Scope.of(services=[SERVICE]), parts=WAITS)
    )[0]
    mean = iris.figures["mean_wait_minutes"]
    assert (mean.target, mean.gap) == (5, pytest.approx(66 / 9 - 5))
    assert iris.status("mean_wait_minutes") == "below"
    # A higher minimum N hides what was shown, with the reason.
    strict = pipeline.compute(
        server_storage,
        IndicatorQuery(month, Scope.of(services=[SERVICE]), Rules(min_answers=10), WAITS),
    )[0]
    assert strict.figures["mean_wait_minutes"].reason == "below_min_n"
    assert strict.figures["walk_out_rate"].value == pytest.approx(10.0)  # 10 visits: shown
