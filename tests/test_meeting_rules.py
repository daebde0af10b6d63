"""The monthly meeting's rules, directly: the days its preparation covers ("since the last
meeting"), the actions, audits and register entries it brings up, and what its minutes need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from sync_server import i18n
from sync_server.cycle import meetings as rules
from sync_server.cycle.meetings import Meeting

DAY = date(2026, 3, 10)


def meeting(id: int, planned: date, held: date | None = None, status: str = "open") -> Meeting:
    return Meeting(id, planned, held, "", "", status, "qualite")


def test_a_first_meeting_covers_from_the_start_of_the_month_before_to_the_day_before():
    window = rules.since_last(None, DAY, today=date(2026, 4, 1))
    assert (window.start, window.last) == (date(2026, 2, 1), date(2026, 3, 9))


def test_the_next_meeting_covers_from_the_day_the_last_one_was_held():
    window = rules.since_last(date(2026, 2, 12), DAY, today=date(2026, 4, 1))
    assert (window.start, window.end) == (date(2026, 2, 12), DAY)


def test_a_meeting_ahead_covers_up_to_today_included():
    window = rules.since_last(date(2026, 2, 12), DAY, today=date(2026, 3, 2))
    assert (window.start, window.last) == (date(2026, 2, 12), date(2026, 3, 2))


@given(
    st.lists(st.integers(min_value=0, max_value=200), min_size=2, max_size=8),
    st.integers(min_value=-30, max_value=900),
)
def test_held_meetings_cover_every_day_between_them_once(gaps, ahead):
    """Windows of consecutive meetings held in the past follow one another without a gap or an
    overlap; each is non-empty and ends no later than its meeting's day and today."""
    days = [DAY]
    for gap in gaps:
        days.append(days[-1] + timedelta(days=gap + 1))
    today = days[-1] + timedelta(days=ahead)
    windows = [rules.since_last(before, day, today) for before, day in pairwise(days)]
    for day, window in zip(days[1:], windows, strict=True):
        assert window.start < window.end <= min(day, today + timedelta(days=1))
    past = [w for day, w in zip(days[1:], windows, strict=True) if day <= today]
    assert all(a.end == b.start for a, b in pairwise(past))


@given(st.dates(), st.dates(), st.dates())
def test_a_window_is_never_empty_nor_longer_than_a_campaign(before, day, today):
    window = rules.since_last(before, day, today)
    assert 1 <= window.days <= 3 * 366


def test_the_last_meeting_is_the_last_held_before_this_one():
    held = meeting(1, date(2026, 1, 12), date(2026, 1, 13), "closed")
    later = meeting(2, date(2026, 2, 9), date(2026, 2, 10))
    planned_only = meeting(3, date(2026, 2, 20))
    this = meeting(4, DAY)
    assert rules.previous([held, later, planned_only, this], this) == later
    assert rules.previous([held, later, this], later) == held
    assert rules.previous([this], this) is None


@dataclass(frozen=True)
class Action:
    id: int
    status: str
    due_on: date | None


def test_actions_due_before_the_next_meeting_or_overdue_come_up_soonest_first():
    actions = [
        Action(1, "validated", DAY + timedelta(days=20)),
        Action(2, "in_progress", DAY - timedelta(days=40)),  # overdue
        Action(3, "done", DAY - timedelta(days=1)),  # done: not brought up
        Action(4, "validated", DAY + timedelta(days=rules.ACTIONS_AHEAD_DAYS)),  # too far
        Action(5, "proposed", None),  # no due date
        Action(6, "abandoned", DAY),
    ]
    assert [a.id for a in rules.actions_due(actions, DAY)] == [2, 1]


@dataclass(frozen=True)
class PlannedAudit:
    id: int
    status: str
    audit_on: date


def test_audits_still_planned_in_the_next_two_months_come_up():
    audits = [
        PlannedAudit(1, "planned", date(2026, 5, 9)),
        PlannedAudit(2, "planned", date(2026, 5, 10)),  # two months on: after the horizon
        PlannedAudit(3, "done", date(2026, 4, 1)),
        PlannedAudit(4, "planned", date(2026, 3, 9)),  # before the meeting
        PlannedAudit(5, "planned", DAY),
    ]
    assert [a.id for a in rules.audits_ahead(audits, DAY)] == [5, 1]


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.integers(0, 24))
def test_months_after_lands_in_the_right_month_on_the_nearest_day(day, count):
    later = rules.months_after(day, count)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == count
    assert later.day == day.day or (later.day < day.day and (later + timedelta(days=1)).day == 1)


def test_an_entry_is_overdue_while_a_step_is_late_and_not_done():
    received = date(2026, 3, 2)
    assert not rules.register_overdue(received, None, None, None, date(2026, 3, 9))
    assert rules.register_overdue(received, None, None, None, date(2026, 3, 10))
    # Acknowledged on time; the answer is due after 15 working days.
    assert not rules.register_overdue(received, date(2026, 3, 3), None, None, date(2026, 3, 20))
    assert rules.register_overdue(received, date(2026, 3, 3), None, None, date(2026, 3, 30))
    assert not rules.register_overdue(received, None, None, date(2026, 3, 30), date(2026, 4, 30))
    late_but_done = (received, date(2026, 3, 20), date(2026, 3, 25), None, date(2026, 4, 30))
    assert not rules.register_overdue(*late_but_done)


def test_minutes_need_a_day_held_not_ahead_and_bounded_texts():
    today = DAY
    assert rules.minutes_problems(DAY, "Mme Martin", "RAS", today) == []
    assert rules.minutes_problems(None, "", "", today) == []
    assert rules.minutes_problems(DAY + timedelta(days=1), "", "", today) == [
        "Une réunion ne peut pas avoir eu lieu après aujourd'hui."
    ]
    long = rules.minutes_problems(DAY, "x" * (rules.MAX_ATTENDEES + 1), "y" * 9000, today)
    assert len(long) == 2
    assert rules.day_problems(None, today, held=False) != []
    assert rules.day_problems(date(2030, 1, 1), today, held=False) != []


def test_a_decision_opening_an_action_needs_a_known_service():
    known = {"iris", "etat-civil"}
    assert rules.decision_problems("Afficher les horaires", "iris", True, known) == []
    assert rules.decision_problems("Afficher les horaires", None, False, known) == []
    assert rules.decision_problems("Afficher", None, True, known) != []
    assert rules.decision_problems("Afficher", "piscine", False, known) != []
    assert rules.decision_problems("", None, False, known) != []
    assert rules.decision_problems("x" * 301, None, False, known) != []


def test_minutes_close_once_and_only_with_the_day_held():
    assert rules.close_problems(meeting(1, DAY)) != []
    assert rules.close_problems(meeting(1, DAY, DAY)) == []
    assert rules.close_problems(meeting(1, DAY, DAY, "closed")) != []


def test_the_next_meeting_to_prepare_is_the_first_open_one_ahead():
    past = meeting(1, DAY - timedelta(days=30), DAY - timedelta(days=30), "closed")
    open_past = meeting(2, DAY - timedelta(days=2))
    ahead = meeting(3, DAY + timedelta(days=28))
    assert rules.next_to_prepare([past, open_past, ahead], DAY) == ahead
    assert rules.next_to_prepare([past, open_past], DAY) == open_past
    assert rules.next_to_prepare([past], DAY) is None


def test_every_message_of_the_rules_is_translated_into_english():
    english = i18n.catalog("en")
    today = DAY
    messages = [
        *rules.minutes_problems(DAY + timedelta(days=1), "x" * 3000, "y" * 9000, today),
        *rules.day_problems(None, today, held=True),
        *rules.day_problems(date(2030, 1, 1), today, held=True),
        *rules.decision_problems("", "piscine", False, set()),
        *rules.decision_problems("x" * 301, None, True, set()),
        *rules.close_problems(meeting(1, DAY)),
        *rules.close_problems(meeting(1, DAY, DAY, "closed")),
    ]
    assert [m for m in messages if not (english.get(m) and english[m].string)] == []
