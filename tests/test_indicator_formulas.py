"""Indicator formulas on hand-computed examples, and their invariants as properties."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_server.indicators import formulas
from sync_server.indicators.formulas import Cell, Figure, VisitFact, publishable

PARIS = ZoneInfo("Europe/Paris")


def test_satisfaction_rate_by_hand():
    # 12 very satisfied + 6 satisfied, 2 dissatisfied: 18 / 20 expressed = 90 %.
    assert formulas.satisfaction_rate(18, 20) == 90.0
    assert formulas.satisfaction_rate(1, 3) == pytest.approx(33.333, abs=1e-3)


def test_no_expressed_answer_gives_no_rate_not_zero():
    assert formulas.satisfaction_rate(0, 0) is None
    assert formulas.net_satisfaction(0, 0, 0) is None


def test_net_satisfaction_by_hand():
    # 18 satisfied, 2 dissatisfied of 20: 90 % − 10 % = 80 points.
    assert formulas.net_satisfaction(18, 2, 20) == 80.0
    # 5-step scale with 4 neutral: 10 satisfied, 6 dissatisfied of 20 → 50 − 30 = 20 points.
    assert formulas.net_satisfaction(10, 6, 20) == 20.0


def test_inconsistent_counts_are_refused():
    with pytest.raises(ValueError, match="inconsistent"):
        formulas.satisfaction_rate(5, 4)
    with pytest.raises(ValueError, match="inconsistent"):
        formulas.net_satisfaction(3, 3, 5)


def test_wilson_interval_by_hand():
    # 90 of 100, z = 1.96: centre (0.9 + 1.96²/200) / (1 + 1.96²/100) = 0.88520, half-width
    # 1.96 / 1.038416 × √(0.0009 + 1.96²/40000) = 0.05957: 82.56 – 94.48 %.
    low, high = formulas.wilson_interval(90, 100)
    assert (low, high) == (pytest.approx(82.563, abs=1e-3), pytest.approx(94.477, abs=1e-3))
    assert formulas.margin_of_error((low, high)) == pytest.approx(5.957, abs=1e-3)
    assert formulas.wilson_interval(0, 0) is None


def test_wilson_interval_keeps_a_width_at_0_and_100_percent():
    # 17 satisfied of 17: the normal approximation says "100 ± 0"; Wilson says 81.6 – 100 %.
    low, high = formulas.wilson_interval(17, 17)
    assert (low, high) == (pytest.approx(81.568, abs=1e-3), 100.0)
    assert formulas.margin_of_error((low, high)) == pytest.approx(9.216, abs=1e-3)
    assert formulas.wilson_interval(0, 17) == (0.0, pytest.approx(18.432, abs=1e-3))
    with pytest.raises(ValueError, match="inconsistent"):
        formulas.wilson_interval(18, 17)


def test_waits_in_minutes_by_hand():
    seconds = [60.0, 120.0, 600.0]
    assert formulas.mean_minutes(seconds) == pytest.approx(260 / 60)
    assert formulas.median_minutes(seconds) == 2.0
    assert formulas.median_minutes([60.0, 180.0]) == 2.0
    assert formulas.mean_minutes([]) is None
    assert formulas.median_minutes([]) is None


@pytest.mark.parametrize(
    ("level", "levels", "expected"),
    [
        (0, 4, "dissatisfied"),
        (1, 4, "dissatisfied"),
        (2, 4, "satisfied"),
        (3, 4, "satisfied"),
        (0, 5, "dissatisfied"),
        (1, 5, "dissatisfied"),
        (2, 5, "neutral"),
        (3, 5, "satisfied"),
        (4, 5, "satisfied"),
    ],
)
def test_sentiment_on_even_and_odd_scales(level, levels, expected):
    assert formulas.sentiment(level, levels) == expected


def test_a_level_outside_the_scale_is_an_error():
    with pytest.raises(ValueError, match="outside"):
        formulas.sentiment(4, 4)


def test_gap_to_target():
    assert formulas.gap(84.0, 90.0) == -6.0
    assert formulas.gap(None, 90.0) is None


def test_min_n_hides_a_figure_and_says_why():
    assert publishable(100.0, 4, 5) == Figure(value=None, n=4, hidden=True, reason="below_min_n")
    assert publishable(None, 0, 5) == Figure(value=None, n=0, hidden=True, reason="no_data")
    assert publishable(80.0, 5, 5) == Figure(value=80.0, n=5)


counts = st.integers(min_value=0, max_value=10_000)


@given(st.data())
def test_rate_is_a_percentage(data):
    expressed = data.draw(st.integers(min_value=1, max_value=10_000))
    satisfied = data.draw(st.integers(min_value=0, max_value=expressed))
    rate = formulas.satisfaction_rate(satisfied, expressed)
    assert 0 <= rate <= 100


@given(st.data())
def test_net_is_within_plus_minus_100_and_below_the_rate(data):
    expressed = data.draw(st.integers(min_value=1, max_value=10_000))
    satisfied = data.draw(st.integers(min_value=0, max_value=expressed))
    dissatisfied = data.draw(st.integers(min_value=0, max_value=expressed - satisfied))
    net = formulas.net_satisfaction(satisfied, dissatisfied, expressed)
    assert -100 <= net <= 100
    assert net <= formulas.satisfaction_rate(satisfied, expressed) + 1e-9


shares = st.integers(min_value=1, max_value=100_000).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)


@given(shares)
def test_the_wilson_interval_lies_within_0_100_and_holds_the_estimate(share):
    part, n = share
    low, high = formulas.wilson_interval(part, n)
    assert 0 <= low <= 100 * part / n <= high <= 100
    assert low < high  # never a zero-width "± 0", not even at 0 % or 100 %


@given(shares, st.integers(min_value=2, max_value=50))
def test_the_wilson_interval_narrows_as_n_grows(share, times):
    part, n = share
    low, high = formulas.wilson_interval(part, n)
    more_low, more_high = formulas.wilson_interval(part * times, n * times)  # same share
    assert more_high - more_low < high - low


@given(st.lists(st.floats(min_value=0, max_value=86_400), min_size=1, max_size=200))
def test_mean_and_median_lie_between_min_and_max(seconds):
    low, high = min(seconds) / 60, max(seconds) / 60
    assert low - 1e-9 <= formulas.mean_minutes(seconds) <= high + 1e-9
    assert low - 1e-9 <= formulas.median_minutes(seconds) <= high + 1e-9


@given(st.integers(min_value=0, max_value=100), counts, st.integers(min_value=1, max_value=50))
def test_a_published_figure_never_shows_a_value_below_min_n(value, n, min_n):
    figure = publishable(float(value), n, min_n)
    assert figure.hidden == (n < min_n or n == 0)
    assert (figure.value is None) == figure.hidden
    assert figure.hidden == (figure.reason is not None)


# -- satisfaction counts ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Row:
    level: int | None
    levels: int | None
    count: int


def test_tally_by_hand():
    # 4-level scale: 3 very satisfied, 2 satisfied, 1 dissatisfied; 2 no opinion.
    rows = [Row(3, 4, 3), Row(2, 4, 2), Row(1, 4, 1), Row(None, None, 2)]
    assert formulas.tally(rows) == formulas.SatisfactionCounts(8, 6, 5, 1)
    assert formulas.score_triples(rows) == [(3, 4, 3), (2, 4, 2), (1, 4, 1)]
    assert formulas.tally([]) == formulas.SatisfactionCounts()


levelled_rows = st.lists(
    st.one_of(
        st.builds(Row, st.none(), st.none(), st.integers(0, 50)),
        st.integers(2, 7).flatmap(
            lambda levels: st.builds(
                Row, st.integers(0, levels - 1), st.just(levels), st.integers(0, 50)
            )
        ),
    ),
    max_size=30,
)


@given(levelled_rows)
def test_tally_counts_every_answer_once(rows):
    counts = formulas.tally(rows)
    assert counts.answers == sum(row.count for row in rows)
    assert counts.satisfied + counts.dissatisfied <= counts.expressed <= counts.answers
    # Whatever the scale, the rates the counts give are percentages.
    rate = formulas.satisfaction_rate(counts.satisfied, counts.expressed)
    assert rate is None if counts.expressed == 0 else 0 <= rate <= 100


# -- waiting times ------------------------------------------------------------------------------


def test_nearest_rank_percentile():
    assert formulas.percentile(list(range(1, 11)), 90) == 9
    assert formulas.percentile([5, 1, 4, 2, 3], 90) == 5
    assert formulas.percentile([7.0], 90) == 7.0
    assert formulas.percentile([], 90) is None
    assert formulas.percentile([1, 2], 50) == 1


def test_wait_formulas_by_hand():
    seconds = [120.0, 240.0, 360.0, 480.0, 1800.0]  # 2, 4, 6, 8, 30 minutes
    assert formulas.p90_minutes(seconds) == 30  # rank ceil(4.5) = 5th of 5
    assert formulas.max_minutes(seconds) == 30
    assert formulas.within_threshold(seconds, 7) == 60.0  # 2, 4, 6 of 5
    assert formulas.walk_out_rate(served=5, walked_out=1) == pytest.approx(100 / 6)
    for formula in (formulas.p90_minutes, formulas.max_minutes):
        assert formula([]) is None  # no wait measured: no figure, not 0 minutes
    assert formulas.within_threshold([], 7) is None
    assert formulas.walk_out_rate(0, 0) is None


def test_satisfaction_by_waiting_band():
    # (wait seconds, level, levels) on the 4-level scale: 2 and 3 are satisfied.
    linked = [(60, 3, 4), (290, 2, 4), (299.9, 0, 4), (300, 3, 4), (1300, 0, 4), (1200, 1, 4)]
    assert formulas.satisfaction_by_band(linked) == {
        "0_5": (2, 3),
        "5_10": (1, 1),
        "10_20": (0, 0),
        "20_plus": (0, 2),
    }


def test_hour_by_weekday_uses_local_arrival_time():
    monday_9_utc = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)  # 09:15 in Paris
    sunday_late = datetime(2026, 3, 1, 22, 50, tzinfo=UTC)  # Sunday 23:50 in Paris
    visits = [
        VisitFact(monday_9_utc, "served", 120.0),
        VisitFact(monday_9_utc, "served", 240.0),
        VisitFact(sunday_late, "served", 1800.0),
        VisitFact(monday_9_utc, "walked_out", 9),
    ]
    grid = [dataclasses.asdict(c) for c in formulas.by_hour_and_weekday(visits, PARIS, min_n=2)]
    assert grid == [
        {"weekday": "mon", "hour": 9, "arrivals": 3, "mean_wait_minutes": 3.0, "waits": 2},
        {"weekday": "sun", "hour": 23, "arrivals": 1, "mean_wait_minutes": None, "waits": 1},
    ]


def test_cells_use_the_local_arrival_hour_across_midnight_and_summer_time():
    # 30 March 2025 is the switch to summer time: 31 March 07:30 UTC is 09:30 in Paris.
    monday = datetime(2025, 3, 31, 7, 30, tzinfo=UTC)
    late = datetime(2025, 3, 31, 21, 50, tzinfo=UTC)  # Monday 23:50, served on Tuesday
    visits = [VisitFact(monday, "served", 60.0 * m) for m in (2, 4, 6, 8, 10)]
    visits += [VisitFact(monday, "walked_out", 300.0), VisitFact(late, "served", 1800.0)]
    cells = formulas.by_hour_and_weekday(visits, PARIS, min_n=5)
    assert cells == [
        Cell("mon", 9, arrivals=6, waits=5, mean_wait_minutes=6.0),
        Cell("mon", 23, arrivals=1, waits=1, mean_wait_minutes=None),
    ]


waits = st.lists(st.floats(min_value=0, max_value=86_400), max_size=200)


@given(waits, st.floats(min_value=1, max_value=100))
def test_a_percentile_is_a_real_wait_with_enough_waits_below_it(seconds, share):
    value = formulas.percentile(seconds, share)
    if not seconds:
        assert value is None
        return
    assert value in seconds
    assert sum(s <= value for s in seconds) >= share / 100 * len(seconds) - 1e-9
    assert value <= formulas.percentile(seconds, 100) == max(seconds)


@given(waits, st.floats(min_value=0, max_value=120), st.floats(min_value=0, max_value=120))
def test_a_longer_threshold_never_serves_fewer_within_it(seconds, a, b):
    low, high = sorted((a, b))
    shorter, longer = (
        formulas.within_threshold(seconds, low),
        formulas.within_threshold(seconds, high),
    )
    if not seconds:
        assert (shorter, longer) == (None, None)
        return
    assert 0 <= shorter <= longer <= 100


@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_walk_out_rate_is_a_percentage_of_known_outcomes(served, walked_out):
    rate = formulas.walk_out_rate(served, walked_out)
    assert (rate is None) == (served + walked_out == 0)
    assert rate is None or 0 <= rate <= 100


@given(st.floats(min_value=0, max_value=86_400))
def test_a_wait_falls_in_the_band_that_contains_it(seconds):
    band = formulas.band_of(seconds)
    [(low, high)] = [b for b in formulas.BANDS if formulas.band_label(*b) == band]
    assert low <= seconds / 60
    assert high is None or seconds / 60 < high


linked_answers = st.lists(
    st.tuples(st.floats(0, 86_400), st.integers(0, 3), st.just(4)), max_size=100
)


@given(linked_answers)
def test_every_linked_answer_is_in_exactly_one_band(linked):
    bands = formulas.satisfaction_by_band(linked)
    assert sum(expressed for _satisfied, expressed in bands.values()) == len(linked)
    assert all(0 <= satisfied <= expressed for satisfied, expressed in bands.values())


visit_facts = st.lists(
    st.builds(
        VisitFact,
        st.datetimes(
            min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
        ),
        st.sampled_from(["served", "walked_out", "unknown", "waiting"]),
        st.one_of(st.none(), st.floats(0, 36_000)),
    ),
    max_size=60,
)


@given(visit_facts, st.integers(1, 10))
def test_the_heatmap_counts_every_arrival_once(visits, min_n):
    cells = formulas.by_hour_and_weekday(visits, PARIS, min_n)
    assert sum(cell.arrivals for cell in cells) == len(visits)
    assert sum(cell.waits for cell in cells) == len(formulas.served_waits(visits))
    assert all((cell.mean_wait_minutes is None) == (cell.waits < min_n) for cell in cells)
    assert len({(cell.weekday, cell.hour) for cell in cells}) == len(cells)


def test_a_visit_before_midnight_counts_in_the_hour_it_arrived():
    arrived = datetime(2025, 10, 26, 0, 59, tzinfo=UTC)  # 02:59 summer time → 01:59 after
    later = arrived + timedelta(minutes=2)  # 02:01 winter time, the clocks went back
    cells = formulas.by_hour_and_weekday(
        [VisitFact(arrived, "served", 60.0), VisitFact(later, "served", 60.0)], PARIS, 1
    )
    assert [(c.weekday, c.hour) for c in cells] == [("sun", 2)]


TRIPLE = st.sampled_from([3, 4, 6, 7]).flatmap(
    lambda levels: st.tuples(st.integers(0, levels - 1), st.just(levels), st.integers(1, 10_000))
)


@given(
    st.lists(TRIPLE, min_size=2, max_size=12).flatmap(
        lambda rows: st.permutations(rows).map(lambda shuffled: (rows, shuffled))
    )
)
def test_the_mean_score_does_not_depend_on_the_order_of_the_rows(pair):
    # PostgreSQL returns grouped rows in no set order: the figure must not move by one bit.
    rows, shuffled = pair
    assert formulas.mean_score(rows) == formulas.mean_score(shuffled)
