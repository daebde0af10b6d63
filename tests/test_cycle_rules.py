"""The quality cycle's rules, pure: the plan's status steps and who takes them, when an action is
overdue, a service's desks read as one for the effect of an action (sum of parts over sum of N),
the months before and after a completion, and the referential part of a town file read with an
error that says where."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_server.cycle import effect, plan
from sync_server.cycle.referential import (
    Engagement,
    InvalidReferential,
    applying,
    bundled_engagements,
    check_since,
    parse_certification,
    parse_engagements,
)
from sync_server.indicators.formulas import Figure, publishable, satisfaction_rate
from sync_server.indicators.targets import INDICATORS

# -- statuses ----------------------------------------------------------------------------------

ALLOWED = {
    ("proposed", "validated"),
    ("proposed", "abandoned"),
    ("validated", "in_progress"),
    ("validated", "done"),
    ("validated", "abandoned"),
    ("in_progress", "done"),
    ("in_progress", "abandoned"),
}


@pytest.mark.parametrize("current", plan.STATUSES)
@pytest.mark.parametrize("wanted", plan.STATUSES)
def test_a_quality_manager_takes_exactly_the_steps_of_the_plan(current, wanted):
    if (current, wanted) in ALLOWED:
        assert plan.transition(current, wanted, may_validate=True) == wanted
    else:
        with pytest.raises(plan.InvalidTransition):
            plan.transition(current, wanted, may_validate=True)


@pytest.mark.parametrize(("current", "wanted"), sorted(ALLOWED))
def test_a_service_manager_neither_validates_nor_abandons(current, wanted):
    if wanted in ("validated", "abandoned"):
        with pytest.raises(plan.InvalidTransition, match="only the quality manager"):
            plan.transition(current, wanted, may_validate=False)
    else:
        assert plan.transition(current, wanted, may_validate=False) == wanted


def test_unknown_statuses_are_refused_and_the_steps_offered_follow_the_role():
    with pytest.raises(plan.InvalidTransition):
        plan.transition("proposed", "finished", may_validate=True)
    with pytest.raises(plan.InvalidTransition):
        plan.transition("lost", "done", may_validate=True)
    assert plan.next_steps("proposed", may_validate=True) == ["validated", "abandoned"]
    assert plan.next_steps("proposed", may_validate=False) == []
    assert plan.next_steps("validated", may_validate=False) == ["in_progress", "done"]
    assert plan.next_steps("done", may_validate=True) == []


def test_an_action_is_overdue_after_its_due_day_until_done_or_abandoned():
    today = date(2026, 6, 10)
    assert plan.overdue("validated", date(2026, 6, 9), today)
    assert plan.overdue("proposed", date(2026, 1, 1), today)
    assert not plan.overdue("in_progress", today, today)  # due today: not yet late
    assert not plan.overdue("done", date(2026, 6, 9), today)
    assert not plan.overdue("abandoned", date(2026, 6, 9), today)
    assert not plan.overdue("validated", None, today)


# -- a service's desks as one -----------------------------------------------------------------

desks = st.lists(
    st.integers(min_value=0, max_value=400).flatmap(
        lambda whole: st.tuples(st.integers(min_value=0, max_value=whole), st.just(whole))
    ),
    min_size=1,
    max_size=6,
)


def raw_share(part: int, whole: int) -> Figure:
    """A desk's share as the computation gives it with no minimum N."""
    return publishable(satisfaction_rate(part, whole), whole, 1)


@given(desks, st.integers(min_value=1, max_value=30))
def test_pooled_desks_are_the_sum_of_parts_over_the_sum_of_n(parts, min_n):
    pooled = effect.pool([raw_share(p, w) for p, w in parts], min_n)
    satisfied, expressed = sum(p for p, _ in parts), sum(w for _, w in parts)
    assert pooled.n == expressed
    if expressed < min_n:
        assert pooled.hidden
        assert pooled.value is None
    else:
        assert pooled.value == pytest.approx(100 * satisfied / expressed)


@given(desks)
def test_pooling_ignores_the_order_of_the_desks_and_one_desk_is_itself(parts):
    figures = [raw_share(p, w) for p, w in parts]
    forward, backward = effect.pool(figures, 5), effect.pool(figures[::-1], 5)
    assert forward.n == backward.n
    assert forward.value == pytest.approx(backward.value) if forward.value else not backward.value
    part, whole = parts[0]
    alone = effect.pool([raw_share(part, whole)], 5)
    assert alone == publishable(satisfaction_rate(part, whole), whole, 5)


def test_the_mean_of_desk_rates_is_not_what_pooling_gives():
    # 10 of 10 at one desk, 1 of 10 at a busier one's 100: 11 of 110 is 10 %, not 55 %.
    pooled = effect.pool([raw_share(10, 10), raw_share(10, 100)], 5)
    assert pooled.value == pytest.approx(100 * 20 / 110)
    unknown = effect.pool([raw_share(3, 4), Figure(value=None, n=6, hidden=True)], 5)
    assert unknown.hidden


def test_medians_are_read_at_one_desk_only():
    assert effect.poolable("satisfaction_rate")
    assert effect.poolable("question:welcome")
    assert effect.poolable("mean_wait_minutes")
    assert not effect.poolable("median_wait_minutes")
    assert not effect.poolable("p90_wait_minutes")


# -- the months before and after ------------------------------------------------------------


def test_three_months_each_side_of_the_completion_day():
    span = effect.windows(date(2026, 3, 15), today=date(2026, 9, 1))
    assert (span.before.start, span.before.end) == (date(2025, 12, 15), date(2026, 3, 15))
    assert (span.after.start, span.after.end) == (date(2026, 3, 15), date(2026, 6, 15))
    assert span.complete
    assert span.before.kind == span.after.kind == "campaign"


def test_the_after_window_runs_to_today_while_it_is_not_over():
    span = effect.windows(date(2026, 3, 15), today=date(2026, 4, 2))
    assert (span.after.start, span.after.last) == (date(2026, 3, 15), date(2026, 4, 2))
    assert not span.complete
    same_day = effect.windows(date(2026, 3, 15), today=date(2026, 3, 15))
    assert same_day.after.days == 1
    ends = effect.windows(date(2026, 3, 15), today=date(2026, 6, 15))
    assert ends.complete
    assert ends.after.last == date(2026, 6, 14)


@given(st.dates(min_value=date(2001, 1, 1), max_value=date(2090, 1, 1)), st.integers(1, 12))
def test_shifted_months_come_back_to_a_day_no_later(day, months):
    later = effect.shift_months(day, months)
    assert later > day
    assert later - day <= timedelta(days=31 * months)
    assert effect.shift_months(later, -months) <= day


def test_a_month_end_shifts_to_the_shorter_month_end():
    assert effect.shift_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert effect.shift_months(date(2026, 5, 31), -3) == date(2026, 2, 28)


# -- the referential in a town file ----------------------------------------------------------


def test_the_starting_list_covers_every_channel_and_ties_known_indicators():
    listed = bundled_engagements()
    assert {e.channel for e in listed} == {
        "reception",
        "phone",
        "mail",
        "complaints",
        "information",
    }
    assert all(key in INDICATORS for e in listed for key in e.indicators)
    assert any(not e.all_services for e in listed)


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"code": "ACC-01"}, r"engagements: a list"),
        (["ACC-01"], r"engagements\[0\]: an object"),
        ([{"code": "acc 1", "title": "x", "channel": "phone"}], r"engagements\[0\]\.code"),
        ([{"code": "ACC-01", "title": " ", "channel": "phone"}], r"engagements\[0\]\.title"),
        (
            [{"code": "ACC-01", "title": "x", "channel": "fax"}],
            r"engagements\[0\]\.channel: one of",
        ),
        (
            [{"code": "ACC-01", "title": "x", "channel": "phone"}] * 2,
            r"engagements\[1\]\.code: ACC-01 is listed twice",
        ),
        (
            [{"code": "ACC-01", "title": "x", "channel": "phone", "indicators": ["speed"]}],
            r"engagements\[0\]\.indicators: unknown indicator 'speed'",
        ),
        (
            [{"code": "ACC-01", "title": "x", "channel": "phone", "all_services": "yes"}],
            r"engagements\[0\]\.all_services",
        ),
    ],
)
def test_a_wrong_engagement_is_named_with_its_place(entries, message):
    with pytest.raises(InvalidReferential, match=message):
        parse_engagements(entries)


@pytest.mark.parametrize(
    ("certification", "message"),
    [
        ({"since": "2020"}, r"services\[iris\]\.certification\.phase"),
        ({"phase": 0}, r"\.phase: a whole number from 1 to 20"),
        ({"phase": 1, "since": "mars 2020"}, r"\.since: a year, month or day"),
        ({"phase": 1, "since": "2020-02-30"}, r"\.since: day is out of range"),
        ({"phase": 1, "with": ["XYZ-99"]}, r"\.with: unknown engagement 'XYZ-99'"),
        ({"phase": 1, "with": ["ACC-01"], "without": ["ACC-01"]}, r"both with and without"),
    ],
)
def test_a_wrong_certification_is_named_with_its_service(certification, message):
    with pytest.raises(InvalidReferential, match=message):
        parse_certification(certification, "iris", known={"ACC-01"})


def test_a_service_takes_on_and_leaves_out_engagements():
    listed = [
        Engagement("ACC-01", "a", "reception"),
        Engagement("ACC-07", "b", "reception", all_services=False),
        Engagement("TEL-02", "c", "phone"),
    ]
    assert [e.code for e in applying(listed, {})] == ["ACC-01", "TEL-02"]
    chosen = applying(listed, {"ACC-07": True, "TEL-02": False})
    assert [e.code for e in chosen] == ["ACC-01", "ACC-07"]
    assert check_since(None, "x") is None
    assert check_since("2021-05", "x") == "2021-05"
