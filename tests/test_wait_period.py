"""Waiting figures of a desk for a period (indicators.wait_period): pure functions on
hand-computed examples, then `compute` on a real SQLite file, checked against the desk figures
the rest of the dashboard shows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from sync_server.indicators import periodic, wait_period
from sync_server.indicators.formulas import Figure
from sync_server.indicators.periods import parse
from sync_server.indicators.wait_period import Cell
from sync_server.indicators.waits import VisitFact
from sync_server.storage import Source
from tests.fixtures.server import SERVICE, SITE
from tests.tools.wait_month import TUESDAY_WAITS, WEDNESDAY_WAITS, fill_month

PARIS = ZoneInfo("Europe/Paris")
TABLET = Source(site=SITE, service=SERVICE, channel="tablet")
PHONE = Source(site=SITE, service=SERVICE, channel="phone")
THRESHOLD = 10  # IRIS's "délai d'attente" in the demo town file

# -- Pure functions ----------------------------------------------------------------------------


def test_figures_of_a_desk_hand_computed():
    at = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    visits = [VisitFact(at, "served", m * 60.0) for m in TUESDAY_WAITS + WEDNESDAY_WAITS]
    visits += [VisitFact(at, "walked_out", 360.0), VisitFact(at, "unknown", None)]
    linked = [(60.0, 2, 4), (120.0, 3, 4), (180.0, 2, 4), (240.0, 0, 4), (120.0, 2, 4),
              (1800.0, 0, 4)]  # fmt: skip
    figures = wait_period.figures_of(visits, linked, THRESHOLD, min_n=5)
    assert figures["visits"].value == 11
    assert figures["mean_wait_minutes"].value == pytest.approx(66 / 9)
    assert figures["mean_wait_minutes"].n == 9
    assert figures["median_wait_minutes"].value == 4
    assert figures["p90_wait_minutes"].value == 30
    assert figures["max_wait_minutes"].value == 30
    assert figures["within_threshold_rate"].value == pytest.approx(100 * 8 / 9)
    assert figures["walk_out_rate"].value == pytest.approx(10.0)
    assert figures["unknown_outcomes"].value == 1
    bands = wait_period.bands_of(linked, figures)
    assert [b.key for b in bands] == ["0_5", "5_10", "10_20", "20_plus"]
    assert (bands[0].rate.value, bands[0].rate.n, bands[0].satisfied) == (80.0, 5, 4)
    assert (bands[3].rate.hidden, bands[3].rate.n, bands[3].satisfied) == (True, 1, None)
    assert bands[1].rate.reason == "no_data"


def test_too_few_visits_hide_every_wait_with_the_reason():
    at = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    visits = [VisitFact(at, "served", 60.0 * m) for m in (1, 2, 3, 4)]
    figures = wait_period.figures_of(visits, [], THRESHOLD, min_n=5)
    for key in ("mean_wait_minutes", "median_wait_minutes", "p90_wait_minutes",
                "max_wait_minutes", "within_threshold_rate", "walk_out_rate"):  # fmt: skip
        assert figures[key].hidden, key
        assert figures[key].value is None
        assert (figures[key].reason, figures[key].n) == ("below_min_n", 4)
    assert figures["visits"].value == 4  # a count of visits is not hidden
    empty = wait_period.figures_of([], [], THRESHOLD, min_n=5)
    assert empty["mean_wait_minutes"].reason == "no_data"
    assert empty["visits"].value == 0


def test_cells_use_the_local_arrival_hour_across_midnight_and_summer_time():
    # 30 March 2025 is the switch to summer time: 31 March 07:30 UTC is 09:30 in Paris.
    monday = datetime(2025, 3, 31, 7, 30, tzinfo=UTC)
    late = datetime(2025, 3, 31, 21, 50, tzinfo=UTC)  # Monday 23:50, served on Tuesday
    visits = [VisitFact(monday, "served", 60.0 * m) for m in (2, 4, 6, 8, 10)]
    visits += [VisitFact(monday, "walked_out", 300.0), VisitFact(late, "served", 1800.0)]
    cells = wait_period.cells_of(visits, PARIS, min_n=5)
    assert cells == [
        Cell("mon", 9, arrivals=6, waits=5, mean_wait_minutes=6.0),
        Cell("mon", 23, arrivals=1, waits=1, mean_wait_minutes=None),
    ]


def test_heat_grid_has_weekdays_always_weekend_when_used_and_every_hour_between():
    tuesday = Cell("tue", 9, 3, 3, None)
    wednesday = Cell("wed", 11, 6, 5, 4.0)
    saturday = Cell("sat", 10, 2, 2, None)
    days, hours, grid = wait_period.heat_grid([tuesday, wednesday, saturday])
    assert days == ["mon", "tue", "wed", "thu", "fri", "sat"]
    assert hours == [9, 10, 11]
    assert grid[0] == [None, None, None]
    assert grid[1] == [tuesday, None, None]
    assert grid[2] == [None, None, wednesday]
    assert grid[5] == [None, saturday, None]
    assert wait_period.heat_grid([]) == ([], [], [])
    assert wait_period.heat_grid([Cell("wed", 8, 1, 1, None)])[0] == [
        "mon", "tue", "wed", "thu", "fri"
    ]  # fmt: skip


def test_context_adds_previous_target_gap_and_status_the_right_way_round():
    now = {key: Figure(value=5.0, n=9) for key in wait_period.KEYS}
    now["mean_wait_minutes"] = Figure(value=12.0, n=9)
    now["within_threshold_rate"] = Figure(value=None, n=3, hidden=True, reason="below_min_n")
    before = {key: Figure(value=4.0, n=9) for key in wait_period.KEYS}
    before["median_wait_minutes"] = Figure(value=None, n=2, hidden=True, reason="below_min_n")
    figures = wait_period.with_context(
        now, before, {"mean_wait_minutes": 10.0, "within_threshold_rate": 80.0}
    )
    mean = figures["mean_wait_minutes"]
    assert (mean.previous, mean.target, mean.gap) == (4.0, 10.0, 2.0)
    assert figures["median_wait_minutes"].previous is None  # hidden then: not shown now either
    assert figures["within_threshold_rate"].gap is None
    desk = wait_period.DeskWaits(SITE, "", SERVICE, "", "2026-03", THRESHOLD, True, figures)
    assert desk.status("mean_wait_minutes") == "below"  # a longer wait than the target misses
    assert desk.status("within_threshold_rate") == "none"  # hidden: neither met nor missed
    assert desk.status("walk_out_rate") == "none"  # no target
    shorter = dict(figures, mean_wait_minutes=Figure(value=9.0, n=9, target=10.0))
    assert wait_period.DeskWaits(SITE, "", SERVICE, "", "", 10, True, shorter).status(
        "mean_wait_minutes"
    ) == "above"  # fmt: skip


# -- Through storage ---------------------------------------------------------------------------


def test_compute_from_storage_matches_the_desk_figures(server_storage):
    month = parse("month", "2026-03")
    fill_month(server_storage, month.start)
    fill_month(server_storage, month.previous().start)  # the same month before: previous
    code = server_storage.create_device(site=SITE, service=SERVICE, mode="tablet")
    server_storage.enrol_device(code.code, app_version="test")
    # A tablet handed out but never enrolled does not count as the desk's tablet.
    server_storage.create_device(site="hotel-de-ville", service="etat-civil", mode="tablet")
    desks = wait_period.compute(server_storage, month, min_answers=5, default_target=90)
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
        r for r in periodic.compute(server_storage, month, min_answers=5, default_target=90)
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
    server_storage.set_target("mean_wait_minutes", SERVICE, 5, date(2026, 1, 1), "qualite")
    desks = wait_period.compute(
        server_storage, month, min_answers=5, default_target=90, services=["etat-civil"]
    )
    assert {d.service for d in desks} == {"etat-civil"}
    iris = wait_period.compute(
        server_storage, month, min_answers=5, default_target=90, services=[SERVICE]
    )[0]
    mean = iris.figures["mean_wait_minutes"]
    assert (mean.target, mean.gap) == (5, pytest.approx(66 / 9 - 5))
    assert iris.status("mean_wait_minutes") == "below"
    # A higher minimum N hides what was shown, with the reason.
    strict = wait_period.compute(
        server_storage, month, min_answers=10, default_target=90, services=[SERVICE]
    )[0]
    assert strict.figures["mean_wait_minutes"].reason == "below_min_n"
    assert strict.figures["walk_out_rate"].value == pytest.approx(10.0)  # 10 visits: shown
