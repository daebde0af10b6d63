"""Opening hours: a pure rule, tested on hand-picked moments and as a property."""

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qualivilles.opening_hours import InvalidOpeningHours, is_open, parse, today_summary

HOURS = {
    "mon": [["08:30", "12:00"], ["13:30", "17:30"]],
    "tue": [["08:30", "17:30"]],
    "sat": [["09:00", "12:00"]],
    "sun": [],
}
MONDAY = datetime(2026, 11, 30)  # a Monday


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (MONDAY.replace(hour=8, minute=29), False),
        (MONDAY.replace(hour=8, minute=30), True),  # opening minute included
        (MONDAY.replace(hour=11, minute=59), True),
        (MONDAY.replace(hour=12, minute=0), False),  # closing minute excluded
        (MONDAY.replace(hour=12, minute=45), False),  # lunch break
        (MONDAY.replace(hour=14), True),
        (MONDAY + timedelta(days=2, hours=10), False),  # Wednesday: not listed, closed
        (MONDAY + timedelta(days=5, hours=10), True),  # Saturday morning
        (MONDAY + timedelta(days=6, hours=10), False),  # Sunday: empty list
    ],
)
def test_open_and_closed_moments(moment, expected):
    assert is_open(HOURS, moment) is expected


def test_no_hours_means_always_open():
    assert is_open(None, MONDAY.replace(hour=3))
    assert is_open({}, MONDAY.replace(hour=23))


def test_todays_summary():
    assert today_summary(HOURS, MONDAY) == "08:30–12:00, 13:30–17:30"
    assert today_summary(HOURS, MONDAY + timedelta(days=6)) == ""


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({"lun": [["08:30", "12:00"]]}, "'lun' is not one of"),
        ({"mon": [["8h30", "12:00"]]}, "mon[0][0]: expected HH:MM"),
        ({"mon": [["14:00", "12:00"]]}, "mon[0]: closes before it opens"),
        ({"mon": [["08:30"]]}, "mon[0]: expected [opening, closing]"),
    ],
)
def test_bad_hours_say_where(hours, message):
    with pytest.raises(InvalidOpeningHours, match=message.replace("[", r"\[")):
        parse(hours)


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)))
def test_open_exactly_when_a_period_of_that_weekday_contains_the_time(moment):
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[moment.weekday()]
    spans = HOURS.get(day, [])
    clock = moment.strftime("%H:%M:%S")
    expected = any(f"{o}:00" <= clock < f"{c}:00" for o, c in spans)
    assert is_open(HOURS, moment) is expected
