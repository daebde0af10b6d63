"""Working days with French public holidays: the register's "answer within 15 working days".

Every due date below was counted by hand on a 2025–2026 calendar (Easter Sunday 5 April 2026,
so Good Friday 3 April, Easter Monday 6 April, Ascension 14 May, Whit Monday 25 May).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_server.indicators import formulas
from sync_server.indicators.public_holidays import UnknownRegion, calendar
from sync_server.settings import Settings
from sync_server.storage import RegisterEntry
from sync_server.web.pages.register import line

METROPOLE = calendar("metropole")
ALSACE = calendar("alsace-moselle")


def test_the_2026_calendars_hold_the_jours_feries():
    metropole = {
        date(2026, 1, 1), date(2026, 4, 6), date(2026, 5, 1), date(2026, 5, 8),
        date(2026, 5, 14), date(2026, 5, 25), date(2026, 7, 14), date(2026, 8, 15),
        date(2026, 11, 1), date(2026, 11, 11), date(2026, 12, 25),
    }  # fmt: skip
    assert METROPOLE.in_year(2026) == metropole
    assert ALSACE.in_year(2026) == metropole | {date(2026, 4, 3), date(2026, 12, 26)}
    assert date(2026, 4, 6) in METROPOLE
    assert date(2026, 4, 3) not in METROPOLE  # Good Friday: Alsace-Moselle only
    assert date(2026, 4, 3) in ALSACE
    assert date(2026, 4, 7) not in ALSACE
    assert "2026-04-06" not in METROPOLE  # only dates are days


def test_an_unknown_calendar_is_refused_in_code_and_in_settings():
    with pytest.raises(UnknownRegion, match="alsace-moselle"):
        calendar("alsace")
    with pytest.raises(ValueError, match="holidays_region"):
        Settings(holidays_region="paris")
    assert Settings().holidays_region == "metropole"
    assert Settings(holidays_region="alsace-moselle").holidays_region == "alsace-moselle"


def test_a_deadline_across_easter_monday():
    thursday = date(2026, 4, 2)
    # Without holidays: 3, 6–10, 13–17, 20–23 April.
    assert formulas.answer_due(thursday) == date(2026, 4, 23)
    # Easter Monday skipped: 3, 7–10, 13–17, 20–24 April.
    assert formulas.answer_due(thursday, METROPOLE) == date(2026, 4, 24)
    # Alsace-Moselle also skips Good Friday: 7–10, 13–17, 20–24, 27 April.
    assert formulas.answer_due(thursday, ALSACE) == date(2026, 4, 27)
    assert formulas.working_days_between(thursday, date(2026, 4, 24), METROPOLE) == 15
    assert not formulas.answer_overdue(thursday, None, date(2026, 4, 24), METROPOLE)
    assert formulas.answer_overdue(thursday, None, date(2026, 4, 25 + 2), METROPOLE)
    assert not formulas.answer_overdue(thursday, date(2026, 4, 27), date(2026, 6, 1), ALSACE)


def test_a_deadline_across_may_day_victory_day_ascension_and_whit_monday():
    thursday = date(2026, 4, 30)
    # Without holidays: 1, 4–8, 11–15, 18–21 May.
    assert formulas.answer_due(thursday) == date(2026, 5, 21)
    # Skipping 1 May, 8 May, Ascension (14) and Whit Monday (25):
    # 4–7, 11–13, 15, 18–22, 26–27 May.
    assert formulas.answer_due(thursday, METROPOLE) == date(2026, 5, 27)
    assert formulas.working_days_between(thursday, date(2026, 5, 21), METROPOLE) == 12  # 15 − 3
    assert formulas.answer_overdue(thursday, date(2026, 5, 28), date(2026, 5, 28), METROPOLE)


def test_a_deadline_across_christmas_and_new_year():
    monday = date(2025, 12, 22)
    # 23, 24, 26, 29–31 Dec, 2, 5–9, 12–14 Jan (25 Dec and 1 Jan skipped).
    assert formulas.answer_due(monday, METROPOLE) == date(2026, 1, 14)
    # Alsace-Moselle: 26 December (a Friday in 2025) skipped too.
    assert formulas.answer_due(monday, ALSACE) == date(2026, 1, 15)


def test_working_day_helpers_by_hand():
    assert formulas.is_working_day(date(2026, 4, 7), METROPOLE)
    assert not formulas.is_working_day(date(2026, 4, 6), METROPOLE)  # Easter Monday
    assert not formulas.is_working_day(date(2026, 4, 4))  # Saturday
    assert formulas.add_working_days(date(2026, 4, 4), 0) == date(2026, 4, 4)
    assert formulas.add_working_days(date(2026, 4, 4), 1, METROPOLE) == date(2026, 4, 7)
    with pytest.raises(ValueError, match="negative"):
        formulas.add_working_days(date(2026, 4, 4), -1)
    assert formulas.acknowledgement_due(date(2026, 4, 30)) == date(2026, 5, 7)  # calendar days


def test_deadline_outcomes_and_share_on_time():
    due, today = date(2026, 5, 27), date(2026, 6, 10)
    assert formulas.deadline_outcome(date(2026, 5, 27), due, today) == "on_time"
    assert formulas.deadline_outcome(date(2026, 5, 28), due, today) == "late"
    assert formulas.deadline_outcome(None, due, today) == "late"  # still open after the due day
    assert formulas.deadline_outcome(None, due, date(2026, 5, 27)) == "pending"
    assert formulas.share_on_time(["on_time", "late", "pending", "on_time"]) == (200 / 3, 3)
    assert formulas.share_on_time(["pending"]) == (None, 0)
    assert formulas.share_on_time([]) == (None, 0)


DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31))


@given(DAYS, st.integers(min_value=0, max_value=400), st.sets(DAYS, max_size=30))
def test_working_days_never_exceed_calendar_days(start, length, holidays):
    end = start + timedelta(days=length)
    assert 0 <= formulas.working_days_between(start, end, holidays) <= length
    assert formulas.working_days_between(start, end, holidays) <= formulas.working_days_between(
        start, end
    )


@given(DAYS, st.integers(min_value=0, max_value=120), st.sets(DAYS, max_size=20), DAYS)
def test_adding_a_holiday_never_increases_the_count(start, length, holidays, extra):
    end = start + timedelta(days=length)
    before = formulas.working_days_between(start, end, holidays)
    after = formulas.working_days_between(start, end, holidays | {extra})
    assert after <= before
    # …and removes exactly one working day when it falls on one inside the range.
    inside = start < extra <= end and extra not in holidays and extra.weekday() < 5
    assert before - after == (1 if inside else 0)


@given(DAYS, st.integers(min_value=0, max_value=40), st.sets(DAYS, max_size=20))
def test_the_due_day_is_the_nth_working_day(start, count, holidays):
    due = formulas.add_working_days(start, count, holidays)
    assert formulas.working_days_between(start, due, holidays) == count
    assert count == 0 or formulas.is_working_day(due, holidays)


@given(DAYS, st.sets(DAYS, max_size=20))
def test_an_answer_on_the_due_day_is_on_time_and_the_next_working_day_late(start, holidays):
    due = formulas.answer_due(start, holidays)
    later = formulas.add_working_days(start, formulas.ANSWER_WITHIN_WORKING_DAYS + 1, holidays)
    assert not formulas.answer_overdue(start, due, later, holidays)
    assert formulas.answer_overdue(start, later, later, holidays)
    assert formulas.answer_overdue(start, None, later, holidays)


def entry(received: datetime, **fields) -> RegisterEntry:
    values = {
        "id": 1, "text": "Réclamation", "flagged": False, "question_id": "comment",
        "site": "s", "service": "x", "received_at": received, "main_level": 0,
        "main_levels": 4, "category": "complaint", "status": "new", "acknowledged_at": None,
        "answered_at": None, "closed_at": None, "reply": None,
    }  # fmt: skip
    values.update(fields)
    return RegisterEntry(**values)


def test_a_register_line_is_overdue_by_the_towns_calendar():
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Paris")
    received = datetime(2026, 4, 2, 8, 0, tzinfo=UTC)  # 10:00 in Paris
    on = date(2026, 4, 27)  # the 15th working day in Alsace-Moselle, the 16th elsewhere
    assert line(entry(received), zone, on, unmask=False, holidays=METROPOLE).answer_overdue
    alsace = line(entry(received), zone, on, unmask=False, holidays=ALSACE)
    assert not alsace.answer_overdue
    assert alsace.answer.due == date(2026, 4, 27)
    assert alsace.ack_overdue  # 7 calendar days: holidays do not move it
    closed = line(entry(received, status="closed"), zone, on, unmask=False, holidays=METROPOLE)
    assert not closed.overdue
