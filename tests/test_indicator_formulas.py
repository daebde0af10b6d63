"""Indicator formulas on hand-computed examples, and their invariants as properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_server.indicators import formulas
from sync_server.indicators.formulas import Figure, publishable


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


def test_margin_of_error_by_hand():
    # p = 0.9, n = 100: 1.96 × √(0.09 / 100) = 1.96 × 0.03 = 5.88 points.
    assert formulas.margin_of_error(90, 100) == pytest.approx(5.88)
    assert formulas.margin_of_error(50, 0) is None
    assert formulas.margin_of_error(100, 40) == 0.0


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


@given(st.floats(min_value=0, max_value=100), st.integers(min_value=1, max_value=100_000))
def test_margin_is_at_most_the_half_worst_case_and_shrinks_with_n(rate, n):
    margin = formulas.margin_of_error(rate, n)
    assert 0 <= margin <= 100 * 1.96 * math.sqrt(0.25 / n) + 1e-9
    assert formulas.margin_of_error(rate, 4 * n) <= margin + 1e-9


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
