"""A desk's figures from its facts (indicators.figures): the minimum-N rule, the previous
period, targets and gaps, on hand-computed examples and as properties. No storage."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_server.indicators import figures as desk
from sync_server.indicators.facts import DeskFacts
from sync_server.indicators.figures import DeskFigures
from sync_server.indicators.formulas import Cell, Figure, SatisfactionCounts, VisitFact
from sync_server.indicators.targets import WAIT_KEYS
from sync_server.storage import LevelCount

SITE, SERVICE = "centre-administratif", "iris"
THRESHOLD = 10  # minutes
AT = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
# Served waits 2 4 6 8 10 30 and 1 2 3 minutes: mean 66/9, median 4, p90 30, max 30,
# within 10 min 8/9; one walk-out of 10 known outcomes; one still waiting at closing time.
WAIT_MINUTES = [2, 4, 6, 8, 10, 30, 1, 2, 3]
VISITS = [VisitFact(AT, "served", m * 60.0) for m in WAIT_MINUTES]
VISITS += [VisitFact(AT, "walked_out", 360.0), VisitFact(AT, "unknown", None)]
# Answers linked to a visit: five under 5 min (4 satisfied), one after 30 min (hidden).
LINKED = [(60.0, 2, 4), (120.0, 3, 4), (180.0, 2, 4), (240.0, 0, 4), (120.0, 2, 4),
          (1800.0, 0, 4)]  # fmt: skip


def levels(*counts: tuple[int | None, int]) -> list[LevelCount]:
    """Main-question rows on the 4-level scale: (level or None for no opinion, count)."""
    return [LevelCount(SITE, SERVICE, lv, None if lv is None else 4, n) for lv, n in counts]


def test_satisfaction_figures_by_hand():
    # 3 very satisfied, 3 satisfied, 1 dissatisfied, 1 very dissatisfied, 2 no opinion.
    counts = SatisfactionCounts(answers=10, expressed=8, satisfied=6, dissatisfied=2)
    figures = desk.satisfaction_figures(counts, min_n=5)
    assert (figures["answers"].value, figures["answers"].n) == (10, 10)
    assert (figures["expressed_answers"].value, figures["expressed_answers"].n) == (8, 8)
    rate = figures["satisfaction_rate"]
    assert (rate.value, rate.n) == (75.0, 8)
    # Wilson, 6 of 8: centre (0.75 + 1.96²/16) / (1 + 1.96²/8) = 0.6689, half-width 0.2596.
    assert rate.low == pytest.approx(40.927, abs=1e-3)
    assert rate.high == pytest.approx(92.852, abs=1e-3)
    assert figures["net_satisfaction"].value == 50.0
    margin = figures["margin_of_error"]
    assert margin.value == pytest.approx((92.852 - 40.927) / 2, abs=1e-3)
    assert (margin.low, margin.high) == (rate.low, rate.high)
    assert margin.warning == "small_sample"
    hidden = desk.satisfaction_figures(SatisfactionCounts(4, 4, 4, 0), min_n=5)
    assert [hidden[k].reason for k in ("satisfaction_rate", "margin_of_error")] == [
        "below_min_n", "below_min_n"
    ]  # fmt: skip


def test_wait_figures_hand_computed_with_unknown_outcomes_excluded():
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    served_minutes = [2, 4, 6, 8, 30]
    visits = [VisitFact(at, "served", m * 60.0) for m in served_minutes]
    visits += [
        VisitFact(at, "walked_out", 600.0),
        VisitFact(at, "unknown", 5000.0),
        VisitFact(at, "waiting", None),
    ]
    figures = desk.wait_figures(visits, threshold_minutes=7, min_n=5)
    assert figures["visits"].value == 8
    assert figures["unknown_outcomes"].value == 1
    assert figures["p90_wait_minutes"].value == 30  # rank ceil(4.5) = 5th of 5
    assert figures["max_wait_minutes"].value == 30  # the unknown's 5000 s is not a wait
    assert figures["within_threshold_rate"].value == pytest.approx(60.0)  # 2, 4, 6 of 5
    assert figures["wait_threshold_minutes"].value == 7
    assert figures["walk_out_rate"].value == pytest.approx(100 / 6)  # 1 of 5 served + 1
    fewer = desk.wait_figures(visits[:4], threshold_minutes=7, min_n=5)
    assert fewer["within_threshold_rate"].hidden
    assert fewer["within_threshold_rate"].reason == "below_min_n"
    assert fewer["walk_out_rate"].reason == "below_min_n"


def test_satisfaction_rate_per_waiting_band():
    linked = [(60, 3, 4), (290, 2, 4), (299.9, 0, 4), (300, 3, 4), (1300, 0, 4), (1200, 1, 4)]
    figures = desk.wait_figures([], 10, min_n=1, linked=linked)
    assert figures["satisfaction_rate_wait_0_5"].value == pytest.approx(200 / 3)
    assert figures["satisfaction_rate_wait_10_20"].reason == "no_data"


def test_figures_of_a_desk_hand_computed():
    figures = desk.wait_figures(VISITS, THRESHOLD, min_n=5, linked=LINKED)
    assert figures["visits"].value == 11
    assert figures["mean_wait_minutes"].value == pytest.approx(66 / 9)
    assert figures["mean_wait_minutes"].n == 9
    assert figures["median_wait_minutes"].value == 4
    assert figures["p90_wait_minutes"].value == 30
    assert figures["max_wait_minutes"].value == 30
    assert figures["within_threshold_rate"].value == pytest.approx(100 * 8 / 9)
    assert figures["walk_out_rate"].value == pytest.approx(10.0)
    assert figures["unknown_outcomes"].value == 1
    bands = desk.bands_of(LINKED, figures)
    assert [b.key for b in bands] == ["0_5", "5_10", "10_20", "20_plus"]
    assert (bands[0].rate.value, bands[0].rate.n, bands[0].satisfied) == (80.0, 5, 4)
    assert (bands[3].rate.hidden, bands[3].rate.n, bands[3].satisfied) == (True, 1, None)
    assert bands[1].rate.reason == "no_data"


def test_too_few_visits_hide_every_wait_with_the_reason():
    visits = [VisitFact(AT, "served", 60.0 * m) for m in (1, 2, 3, 4)]
    figures = desk.wait_figures(visits, THRESHOLD, min_n=5)
    for key in ("mean_wait_minutes", "median_wait_minutes", "p90_wait_minutes",
                "max_wait_minutes", "within_threshold_rate", "walk_out_rate"):  # fmt: skip
        assert figures[key].hidden, key
        assert figures[key].value is None
        assert (figures[key].reason, figures[key].n) == ("below_min_n", 4)
    assert figures["visits"].value == 4  # a count of visits is not hidden
    empty = desk.wait_figures([], THRESHOLD, min_n=5)
    assert empty["mean_wait_minutes"].reason == "no_data"
    assert empty["visits"].value == 0


def test_the_waits_read_the_same_from_visits_as_from_served_waits():
    from_visits = desk.figures_of(DeskFacts(visits=VISITS), THRESHOLD, 5)
    from_waits = desk.figures_of(DeskFacts(waits=[m * 60.0 for m in WAIT_MINUTES]), THRESHOLD, 5)
    for key in ("mean_wait_minutes", "median_wait_minutes"):
        assert from_visits[key] == from_waits[key]


def test_a_part_not_read_gives_no_figure_rather_than_an_empty_one():
    main = levels((3, 4), (2, 2), (0, 1))
    only = desk.figures_of(DeskFacts(main=main), THRESHOLD, 5)
    assert list(only) == [
        "answers", "expressed_answers", "satisfaction_rate", "net_satisfaction", "margin_of_error"
    ]  # fmt: skip
    detailed = desk.figures_of(
        DeskFacts(main=main, waits=[], visitors=0, register=([], [])), THRESHOLD, 5
    )
    assert list(detailed)[5:] == [
        "mean_wait_minutes", "median_wait_minutes", "score", "good_score_share",
        "participation_rate", "acknowledged_on_time", "answered_on_time",
    ]  # fmt: skip
    assert detailed["score"].value == pytest.approx((4 * 10 + 2 * 20 / 3 + 0) / 7)
    assert detailed["participation_rate"].reason == "no_data"  # no visitor recorded, not 0 %


def test_heat_grid_has_weekdays_always_weekend_when_used_and_every_hour_between():
    tuesday = Cell("tue", 9, 3, 3, None)
    wednesday = Cell("wed", 11, 6, 5, 4.0)
    saturday = Cell("sat", 10, 2, 2, None)
    days, hours, grid = desk.heat_grid([tuesday, wednesday, saturday])
    assert days == ["mon", "tue", "wed", "thu", "fri", "sat"]
    assert hours == [9, 10, 11]
    assert grid[0] == [None, None, None]
    assert grid[1] == [tuesday, None, None]
    assert grid[2] == [None, None, wednesday]
    assert grid[5] == [None, saturday, None]
    assert desk.heat_grid([]) == ([], [], [])
    assert desk.heat_grid([Cell("wed", 8, 1, 1, None)])[0] == [
        "mon", "tue", "wed", "thu", "fri"
    ]  # fmt: skip


def test_context_adds_previous_target_gap_and_status_the_right_way_round():
    now = {key: Figure(value=5.0, n=9) for key in WAIT_KEYS}
    now["mean_wait_minutes"] = Figure(value=12.0, n=9)
    now["within_threshold_rate"] = Figure(value=None, n=3, hidden=True, reason="below_min_n")
    before = {key: Figure(value=4.0, n=9) for key in WAIT_KEYS}
    before["median_wait_minutes"] = Figure(value=None, n=2, hidden=True, reason="below_min_n")
    figures = desk.with_context(
        now, before, {"mean_wait_minutes": 10.0, "within_threshold_rate": 80.0}
    )
    mean = figures["mean_wait_minutes"]
    assert (mean.previous, mean.target, mean.gap) == (4.0, 10.0, 2.0)
    assert figures["median_wait_minutes"].previous is None  # hidden then: not shown now either
    assert figures["within_threshold_rate"].gap is None
    row = DeskFigures(SITE, "", SERVICE, "", "2026-03", figures, threshold_minutes=THRESHOLD)
    assert row.status("mean_wait_minutes") == "below"  # a longer wait than the target misses
    assert row.status("within_threshold_rate") == "none"  # hidden: neither met nor missed
    assert row.status("walk_out_rate") == "none"  # no target
    shorter = dict(figures, mean_wait_minutes=Figure(value=9.0, n=9, target=10.0))
    assert DeskFigures(SITE, "", SERVICE, "", "", shorter).status(
        "mean_wait_minutes"
    ) == "above"  # fmt: skip
    longest = dict(figures, max_wait_minutes=Figure(value=40.0, n=9, target=30.0))
    assert DeskFigures(SITE, "", SERVICE, "", "", longest).status("max_wait_minutes") == "below"


def test_every_figure_carries_its_previous_value_unit_and_what_n_counts():
    now = desk.figures_of(DeskFacts(main=levels((3, 6), (None, 2)), visits=VISITS), THRESHOLD, 5)
    before = desk.figures_of(DeskFacts(main=levels((3, 5)), visits=VISITS), THRESHOLD, 5)
    shown = desk.with_context(now, before, {"satisfaction_rate": 90.0})
    assert shown["satisfaction_rate"].previous == 100.0
    assert shown["answers"].previous == 5  # counts too: the previous period for every figure
    assert shown["visits"].previous == 11
    assert shown["wait_threshold_minutes"].previous == THRESHOLD
    assert [key for key, f in now.items() if not f.hidden and shown[key].previous is None] == []
    units = {key: (f.unit, f.gap_unit, f.n_counts) for key, f in shown.items()}
    assert units["answers"] == ("count", "count", "answers")
    assert units["satisfaction_rate"] == ("%", "pts", "expressed_answers")
    assert units["net_satisfaction"] == ("pts", "pts", "expressed_answers")
    assert units["mean_wait_minutes"] == ("min", "min", "served_waits")
    assert units["walk_out_rate"] == ("%", "pts", "known_outcomes")
    assert units["satisfaction_rate_wait_0_5"] == ("%", "pts", "linked_answers")
    assert (shown["answers"].value, shown["expressed_answers"].value) == (8, 6)
    assert (shown["satisfaction_rate"].n, shown["answers"].n) == (6, 8)


def test_question_figures_in_the_survey_order_with_their_previous_rate():
    choices = {"welcome": ["very_satisfied", "satisfied", "dissatisfied", "no_opinion"],
               "clarity": ["satisfied", "dissatisfied"]}  # fmt: skip
    now = DeskFacts(
        questions={"welcome": SatisfactionCounts(7, 6, 3, 3)},
        distribution={"welcome": {"satisfied": 3, "dissatisfied": 3, "no_opinion": 1, "other": 2}},
    )
    before = DeskFacts(questions={"welcome": SatisfactionCounts(5, 5, 5, 0)})
    found = desk.question_figures(now, before, choices, min_n=5, target=90.0)
    assert list(found) == ["welcome", "clarity"]
    welcome = found["welcome"]
    assert (welcome.rate.value, welcome.rate.previous, welcome.rate.gap) == (50.0, 100.0, -40.0)
    assert welcome.distribution == {
        "very_satisfied": 0, "satisfied": 3, "dissatisfied": 3, "no_opinion": 1, "other": 2
    }  # fmt: skip
    assert found["clarity"].rate.reason == "no_data"
    assert found["clarity"].distribution == {"satisfied": 0, "dissatisfied": 0}


def test_below_target_lists_the_keys_asked_in_their_order():
    missed = Figure(value=50.0, n=9, target=90.0)
    row = DeskFigures(SITE, "", SERVICE, "", "2026", {
        "walk_out_rate": Figure(value=20.0, n=9, target=10.0),
        "satisfaction_rate": missed,
        "visits": Figure(value=3, n=3, target=10.0),
    })  # fmt: skip
    assert [key for _r, key, _f in desk.below_target([row])] == [
        "satisfaction_rate", "walk_out_rate"
    ]  # fmt: skip
    assert [key for _r, key, _f in desk.below_target([row], keys=WAIT_KEYS)] == [
        "visits", "walk_out_rate"
    ]  # fmt: skip


figures_drawn = st.builds(
    lambda value, n, hidden: Figure(
        value=None if hidden else value,
        n=n,
        hidden=hidden,
        reason="below_min_n" if hidden else None,
    ),
    st.floats(0, 100),
    st.integers(0, 1000),
    st.booleans(),
)


@given(figures_drawn, st.one_of(st.none(), figures_drawn), st.one_of(st.none(), st.floats(0, 100)))
def test_context_never_changes_a_figure_nor_shows_a_hidden_one(figure, before, target):
    shown = desk.in_context("satisfaction_rate", figure, before, target)
    assert (shown.value, shown.n, shown.hidden, shown.reason) == (
        figure.value, figure.n, figure.hidden, figure.reason
    )  # fmt: skip
    assert shown.previous is None or (before is not None and not before.hidden)
    assert shown.target == target
    assert (shown.gap is None) == (figure.hidden or target is None)
