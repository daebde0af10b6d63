"""Reporting periods and the quality desk's formulas on hand-computed examples and edge cases."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_server.indicators import formulas
from sync_server.indicators.periods import (
    InvalidPeriod,
    add_months,
    containing,
    default_period,
    last_complete_month,
    last_months,
    month_bounds,
    months_between,
    parse,
    parse_month,
)

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("kind", "text", "start", "end", "previous"),
    [
        ("week", "2025-W10", date(2025, 3, 3), date(2025, 3, 10), "2025-W09"),
        ("week", "2025-W01", date(2024, 12, 30), date(2025, 1, 6), "2024-W52"),
        ("month", "2025-01", date(2025, 1, 1), date(2025, 2, 1), "2024-12"),
        ("quarter", "2025-Q1", date(2025, 1, 1), date(2025, 4, 1), "2024-Q4"),
        ("year", "2024", date(2024, 1, 1), date(2025, 1, 1), "2023"),
        (
            "campaign",
            "2025-03-10..2025-03-16",
            date(2025, 3, 10),
            date(2025, 3, 17),
            "2025-03-03..2025-03-09",
        ),
    ],
)
def test_periods_by_hand(kind, text, start, end, previous):
    period = parse(kind, text)
    assert (period.start, period.end, period.key) == (start, end, text)
    assert period.previous().key == previous


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("month", "2025-13"),
        ("week", "2025-W53"),  # 2025 has 52 ISO weeks
        ("quarter", "2025-Q5"),
        ("campaign", "2025-03-10..2025-03-01"),
        ("campaign", "2025-02-30..2025-03-01"),
        ("decade", "2020"),
    ],
)
def test_invalid_periods_are_refused(kind, text):
    with pytest.raises(InvalidPeriod):
        parse(kind, text)


def test_period_bounds_follow_paris_time():
    start, end = parse("quarter", "2025-Q1").bounds(PARIS)
    assert start == datetime(2024, 12, 31, 23, 0, tzinfo=UTC)
    assert end == datetime(2025, 3, 31, 22, 0, tzinfo=UTC)  # summer time since 30 March


def test_default_period_is_the_last_complete_one():
    today = date(2025, 4, 2)
    assert default_period("month", today).key == "2025-03"
    assert default_period("quarter", today).key == "2025-Q1"
    assert default_period("year", today).key == "2024"
    assert default_period("week", today).key == "2025-W13"
    assert containing("week", date(2025, 3, 9)).key == "2025-W10"  # a Sunday


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)))
def test_a_period_and_its_previous_touch(day):
    for kind in ("week", "month", "quarter", "year"):
        period = containing(kind, day)
        assert period.start <= day < period.end
        assert period.previous().end == period.start
        assert parse(kind, period.key) == period


def test_score_out_of_ten_by_hand():
    # 4-level smileys: 0, 3.33, 6.67, 10.
    assert formulas.score(0, 4) == 0
    assert formulas.score(2, 4) == pytest.approx(6.667, abs=1e-3)
    assert formulas.score(3, 4) == 10
    # 2 × 10 + 1 × 6.67 + 1 × 0 over 4 answers = 6.667; only the two 10s reach 8.
    triples = [(3, 4, 2), (2, 4, 1), (0, 4, 1)]
    assert formulas.mean_score(triples) == pytest.approx(6.667, abs=1e-3)
    assert formulas.share_good_scores(triples) == 50.0
    # 5-level scale: level 3 scores 7.5 (below 8), level 4 scores 10.
    assert formulas.share_good_scores([(3, 5, 1), (4, 5, 1)]) == 50.0


def test_score_edge_cases():
    assert formulas.mean_score([]) is None
    assert formulas.share_good_scores([]) is None
    assert formulas.mean_score([(1, 4, 1)]) == pytest.approx(3.333, abs=1e-3)  # one answer
    with pytest.raises(ValueError, match="outside"):
        formulas.score(4, 4)


def test_participation_rate_by_hand():
    assert formulas.participation_rate(30, 120) == 25.0
    assert formulas.participation_rate(5, 0) is None  # no visitor recorded: no rate, not ∞
    assert formulas.participation_rate(150, 100) == 150.0  # phone answers can exceed visits
    with pytest.raises(ValueError, match="negative"):
        formulas.participation_rate(-1, 3)


def test_working_days_and_register_deadlines():
    friday = date(2025, 3, 7)
    assert formulas.working_days_between(friday, date(2025, 3, 10)) == 1  # the Monday
    assert formulas.working_days_between(friday, date(2025, 3, 28)) == 15
    assert formulas.working_days_between(friday, friday) == 0
    assert not formulas.answer_overdue(friday, None, date(2025, 3, 28))
    assert formulas.answer_overdue(friday, None, date(2025, 3, 31))  # 16th working day
    assert not formulas.acknowledgement_overdue(friday, None, date(2025, 3, 14))
    assert formulas.acknowledgement_overdue(friday, None, date(2025, 3, 15))
    # Acknowledged late stays late; on time stays on time whatever today is.
    assert formulas.acknowledgement_overdue(friday, date(2025, 3, 20), date(2025, 3, 21))
    assert not formulas.acknowledgement_overdue(friday, date(2025, 3, 8), date(2026, 1, 1))


@given(st.dates(), st.integers(min_value=0, max_value=400))
def test_working_days_never_exceed_calendar_days(start, length):
    from datetime import timedelta

    try:
        end = start + timedelta(days=length)
    except OverflowError:
        return
    days = formulas.working_days_between(start, end)
    assert 0 <= days <= length
    assert days >= 5 * (length // 7)


def test_status_against_target_follows_direction():
    assert formulas.status_against(91, 90, higher_is_better=True) == "above"
    assert formulas.status_against(89.9, 90, higher_is_better=True) == "below"
    assert formulas.status_against(12, 10, higher_is_better=False) == "below"  # waits
    assert formulas.status_against(None, 90, higher_is_better=True) == "none"


@pytest.mark.parametrize(
    ("kind", "text", "first", "last"),
    [
        ("month", "2025-03", "2024-04", "2025-03"),
        ("quarter", "2025-Q1", "2024-04", "2025-03"),
        ("year", "2025", "2025-01", "2025-12"),
        ("week", "2025-W14", "2024-05", "2025-04"),  # 31 March – 6 April: ends in April
        ("campaign", "2025-02-10..2025-05-02", "2024-06", "2025-05"),
    ],
)
def test_the_trend_ends_with_the_month_of_the_period_last_day(kind, text, first, last):
    months = last_months(parse(kind, text), 12)
    assert len(months) == 12
    assert (months[0].key, months[-1].key) == (first, last)
    assert all(a.end == b.start for a, b in itertools.pairwise(months))


def test_month_bounds_follow_paris_time():
    start, end = month_bounds(date(2025, 3, 1), PARIS)
    assert start == datetime(2025, 2, 28, 23, 0, tzinfo=UTC)  # winter time, UTC+1
    assert end == datetime(2025, 3, 31, 22, 0, tzinfo=UTC)  # summer time from 30 March, UTC+2


def test_month_helpers():
    assert parse_month("2025-12") == date(2025, 12, 1)
    assert add_months(date(2025, 12, 1), 1) == date(2026, 1, 1)
    assert add_months(date(2025, 1, 1), -1) == date(2024, 12, 1)
    assert len(months_between(date(2024, 11, 1), date(2025, 2, 1))) == 4
    now = datetime(2025, 3, 31, 22, 30, tzinfo=UTC)  # already 1 April in Paris
    assert last_complete_month(now, PARIS) == date(2025, 3, 1)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2900, 1, 1)), st.integers(-600, 600))
def test_month_arithmetic_goes_back_where_it_came_from(day, count):
    later = add_months(day, count)
    assert later.day == 1
    assert add_months(later, -count) == day.replace(day=1)
    months = months_between(min(day, later), max(day, later))
    assert len(months) == abs(count) + 1
    assert all(a.end == b.start for a, b in itertools.pairwise(months))
