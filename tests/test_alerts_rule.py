"""The unhappy-answers alert rule (sync_server/alerts/rule.py), by hand and by property."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_server.alerts.rule import (
    AlertRule,
    DeskCount,
    breaches,
    due_alerts,
    is_unhappy,
    tally,
)

NOW = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
RULE = AlertRule(window=HOUR, min_answers=5, threshold_percent=40)
IRIS = ("centre-administratif", "iris")
ETAT_CIVIL = ("hotel-de-ville", "etat-civil")


def test_unhappy_is_the_lower_half_of_the_scale():
    # Qualivilles' four smileys: the two lowest are unhappy.
    assert [is_unhappy(level, 4) for level in range(4)] == [True, True, False, False]
    # Five steps: the middle one is neutral, as the dashboard counts it.
    assert [is_unhappy(level, 5) for level in range(5)] == [True, True, False, False, False]


def test_tally_leaves_no_opinion_out():
    rows = [
        (IRIS, 0, 4, 3),
        (IRIS, 1, 4, 1),
        (IRIS, 2, 4, 4),
        (IRIS, None, None, 2),  # no opinion
        (ETAT_CIVIL, 3, 4, 6),
        (("clavim", "clavim"), None, None, 9),  # only "no opinion": nothing expressed
    ]
    assert tally(rows) == {IRIS: DeskCount(8, 4), ETAT_CIVIL: DeskCount(6, 0)}


def test_threshold_and_minimum_by_hand():
    assert breaches(DeskCount(5, 2), RULE)  # exactly 40 %
    assert not breaches(DeskCount(5, 1), RULE)  # 20 %
    assert not breaches(DeskCount(8, 3), RULE)  # 37.5 %
    assert breaches(DeskCount(9, 4), RULE)  # 44.4 %
    assert not breaches(DeskCount(4, 4), RULE)  # everyone unhappy, but only 4 answers
    assert breaches(DeskCount(3, 1), AlertRule(HOUR, 3, 33.3))  # 33.33… ≥ 33.3


def test_one_alert_per_window():
    counts = {IRIS: DeskCount(8, 4), ETAT_CIVIL: DeskCount(10, 1)}
    [alert] = due_alerts(counts, RULE, NOW, {})
    assert (alert.site, alert.service, alert.expressed, alert.unhappy) == (*IRIS, 8, 4)
    assert (alert.window_start, alert.window_end) == (NOW - HOUR, NOW)
    assert alert.share_percent == 50
    # A minute later the window still overlaps the one reported: nothing.
    assert due_alerts(counts, RULE, NOW + timedelta(minutes=1), {IRIS: NOW}) == []
    assert due_alerts(counts, RULE, NOW + timedelta(minutes=59), {IRIS: NOW}) == []
    # Once the window has fully moved past it, a desk still bad is alerted again.
    [again] = due_alerts(counts, RULE, NOW + HOUR, {IRIS: NOW})
    assert again.window_start == NOW
    # Another desk's alert does not hold this one back.
    assert len(due_alerts(counts, RULE, NOW, {ETAT_CIVIL: NOW})) == 1


def test_a_rule_must_make_sense():
    with pytest.raises(ValueError, match="window"):
        AlertRule(timedelta(0), 5, 40)
    with pytest.raises(ValueError, match="at least one"):
        AlertRule(HOUR, 0, 40)
    with pytest.raises(ValueError, match="percentage"):
        AlertRule(HOUR, 5, 0)
    with pytest.raises(ValueError, match="unhappy"):
        DeskCount(3, 4)


counts = st.integers(min_value=0, max_value=500).flatmap(
    lambda n: st.tuples(st.just(n), st.integers(min_value=0, max_value=n))
)
rules = st.builds(
    AlertRule,
    window=st.just(HOUR),
    min_answers=st.integers(min_value=1, max_value=100),
    threshold_percent=st.floats(min_value=0.5, max_value=100),
)


@given(counts, rules)
def test_never_alerts_below_the_minimum(count, rule):
    expressed, unhappy = count
    if expressed < rule.min_answers:
        assert not breaches(DeskCount(expressed, unhappy), rule)


@given(counts, rules)
def test_more_unhappy_answers_never_remove_an_alert(count, rule):
    expressed, unhappy = count
    if breaches(DeskCount(expressed, unhappy), rule):
        # One more unhappy answer in place of a happy one, or on top of the others.
        if unhappy < expressed:
            assert breaches(DeskCount(expressed, unhappy + 1), rule)
        assert breaches(DeskCount(expressed + 1, unhappy + 1), rule)


@given(
    st.lists(st.tuples(st.integers(min_value=1, max_value=30), counts), min_size=1, max_size=40),
    rules,
)
def test_alerted_windows_of_a_desk_never_overlap(steps, rule):
    """Checks at random intervals over a desk whose counts change: fed back what was sent, the
    rule never reports the same moment twice."""
    now, last, windows = NOW, {}, []
    for minutes, (expressed, unhappy) in steps:
        now += timedelta(minutes=minutes)
        for alert in due_alerts({IRIS: DeskCount(expressed, unhappy)}, rule, now, last):
            last[IRIS] = alert.window_end
            windows.append((alert.window_start, alert.window_end))
    for (_, end), (start, _) in itertools.pairwise(windows):
        assert start >= end
