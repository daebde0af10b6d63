"""The overview for any period kind: week, month, quarter, year and a survey campaign given as
two dates; the shared picker's choice rules by hand, then the pages on the real app in-process.

Data at IRIS, counted by hand (main question):
- Monday 2 March 2026 (week 2026-W10): 6 satisfied;
- Tuesday 17 March 2026: 3 satisfied, 1 dissatisfied;
- Wednesday 15 April 2026: 5 dissatisfied.
So March 9/10 = 90 %, W10 6/6 = 100 %, Q1 9/10 = 90 %, Q2 0/5 = 0 %, 2026 9/15 = 60 %, and the
campaign 10 March – 30 April 3/9 = 33.3 %.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from sync_server.indicators.periods import MAX_CAMPAIGN_DAYS, default_period, parse
from sync_server.web.figures import today as town_today
from sync_server.web.period_choice import choose, period_label, picker, suggestions
from tests.fixtures.server import SERVICE, add_user
from tests.tools.desk_records import answers

TODAY = date(2026, 11, 29)
ETAT_CIVIL = ("hotel-de-ville", "etat-civil")


# -- the choice, by hand -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "text", "key", "label"),
    [
        ("week", "2026-W10", "2026-W10", "2 mars 2026 – 8 mars 2026"),
        ("month", "2026-03", "2026-03", "Mars 2026"),
        ("quarter", "2026-Q1", "2026-Q1", "T1 2026"),
        ("year", "2025", "2025", "2025"),
        ("campaign", "2026-03-10..2026-04-30", "2026-03-10..2026-04-30",
         "10 mars 2026 – 30 avr. 2026"),
        # Switching the picker's kind keeps the period that holds the typed one's start.
        ("quarter", "2026-05", "2026-Q2", "T2 2026"),
        ("year", "2026-W10", "2026", "2026"),
    ],
)  # fmt: skip
def test_each_kind_is_chosen_as_asked(kind, text, key, label):
    choice = choose(kind, text, TODAY, "fr")
    assert (choice.period.key, choice.label, choice.problem) == (key, label, None)


def test_a_campaign_from_two_date_fields():
    choice = choose("campaign", None, TODAY, "fr", first="2026-03-10", last="2026-04-30")
    assert (choice.period.start, choice.period.end) == (date(2026, 3, 10), date(2026, 5, 1))
    assert choice.problem is None
    assert choice.query == "kind=campaign&period=2026-03-10..2026-04-30"
    # One day is a campaign too; it may still be running.
    assert choose("campaign", None, TODAY, "fr", first="2026-11-29",
                  last="2026-12-31").period.days == 33  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "text", "first", "last", "code"),
    [
        ("campaign", None, "2026-03-31", "2026-03-01", "end_before_start"),
        ("campaign", "2026-03-31..2026-03-01", None, None, "end_before_start"),
        ("campaign", None, "2026-02-30", "2026-03-01", "bad_date"),
        ("campaign", None, "mars", "2026-03-01", "bad_date"),
        ("campaign", None, "2026-03-01", None, "missing_date"),
        ("campaign", None, "2023-01-01", "2026-03-01", "too_long"),
        ("campaign", None, "2026-12-01", "2026-12-31", "future"),
        ("month", "2026-13", None, None, "bad_period"),
        ("month", "<script>", None, None, "bad_period"),
        ("week", "2026-W54", None, None, "bad_period"),
        ("quarter", "2026-Q5", None, None, "bad_period"),
        ("year", "2027", None, None, "future"),
        ("decade", "2020", None, None, "unknown_kind"),
    ],
)
def test_bad_input_gives_the_default_period_and_says_why(kind, text, first, last, code):
    choice = choose(kind, text, TODAY, "fr", first=first, last=last)
    assert choice.problem is not None
    assert choice.problem.code == code
    expected_kind = kind if kind != "decade" else "month"
    assert choice.period == default_period(expected_kind, TODAY)


def test_three_years_is_the_longest_campaign():
    first = date(2023, 12, 1)
    longest = first + timedelta(days=MAX_CAMPAIGN_DAYS - 1)
    ok = choose("campaign", None, TODAY, "fr", first=first.isoformat(), last=longest.isoformat())
    assert ok.problem is None
    assert ok.period.days == MAX_CAMPAIGN_DAYS
    too_long = longest + timedelta(days=1)
    refused = choose("campaign", None, TODAY, "fr", first=first.isoformat(),
                     last=too_long.isoformat())  # fmt: skip
    assert refused.problem.code == "too_long"


def test_nothing_asked_opens_on_last_month_without_a_problem():
    choice = choose(None, None, TODAY, "fr")
    assert (choice.period.key, choice.problem) == ("2026-10", None)


def test_the_picker_suggests_recent_periods_and_fills_the_campaign_dates():
    values = [s.value for s in suggestions(TODAY, "fr")]
    assert values[:2] == ["2026-W48", "2026-W47"]  # the week in progress first
    assert values[8:10] == ["2026-11", "2026-10"]
    assert "2025-11" in values
    assert "2025-10" not in values
    assert values[21:23] == ["2026-Q4", "2026-Q3"]
    assert values[-4:] == ["2026", "2025", "2024", "2023"]
    shown = picker(choose("month", "2026-03", TODAY, "fr"), TODAY, "fr")
    assert (shown["first"], shown["last"]) == ("2026-03-01", "2026-03-31")
    english = period_label(parse("quarter", "2026-Q1"), "en")
    assert english == "Q1 2026"


# -- the pages on the real app ----------------------------------------------------------------


@pytest.fixture
def overview(app_server):
    """The app with the data of the module docstring, and a logged-in quality manager."""
    storage = app_server.storage
    answers(storage, ["satisfied"] * 6, datetime(2026, 3, 2, 9, tzinfo=UTC))
    answers(storage, ["satisfied"] * 3 + ["dissatisfied"], datetime(2026, 3, 17, 9, tzinfo=UTC))
    answers(storage, ["dissatisfied"] * 5, datetime(2026, 4, 15, 9, tzinfo=UTC))
    answers(storage, ["satisfied"] * 7, datetime(2026, 3, 12, 9, tzinfo=UTC), ETAT_CIVIL)
    session = app_server.login_session(app_server.client())

    def get(query: str, who: TestClient = session) -> str:
        response = who.get(f"{app_server.url}/?{query}")
        assert response.status_code == 200, response.text[:500]
        return response.text

    return app_server, get


def card(page: str, service: str = SERVICE) -> str:
    found = re.search(rf'<li class="card[^"]*"[^>]*data-service="{service}".*?</li>', page, re.S)
    assert found, f"no card for {service}"
    return found.group(0)


def rate(page: str, service: str = SERVICE) -> str:
    found = re.search(r'<span class="rate">([^<]+)</span>', card(page, service))
    return found.group(1) if found else "hidden"


@pytest.mark.parametrize(
    ("query", "shown", "heading"),
    [
        ("kind=week&period=2026-W10", "100,0\u202f%", "2 mars 2026 – 8 mars 2026"),
        ("kind=month&period=2026-03", "90,0\u202f%", "Mars 2026"),
        ("month=2026-03", "90,0\u202f%", "Mars 2026"),  # links from before the picker
        ("kind=quarter&period=2026-Q1", "90,0\u202f%", "T1 2026"),
        ("kind=quarter&period=2026-Q2", "0,0\u202f%", "T2 2026"),
        ("kind=year&period=2026", "60,0\u202f%", "2026"),
        ("kind=campaign&from=2026-03-10&to=2026-04-30", "33,3\u202f%",
         "10 mars 2026 – 30 avr. 2026"),
    ],
)  # fmt: skip
def test_the_overview_shows_each_kind_of_period(overview, query, shown, heading):
    _server, get = overview
    page = get(query)
    assert rate(page) == shown
    assert f"Satisfaction et attente · {heading}</h1>" in page
    assert 'role="alert"' not in page


def test_a_campaign_page_links_everything_to_the_same_campaign(overview):
    _server, get = overview
    page = get("kind=campaign&from=2026-03-10&to=2026-04-30")
    same = "kind=campaign&amp;period=2026-03-10..2026-04-30"
    assert f'href="/service/{SERVICE}?{same}"' in card(page)
    assert f'href="/export/indicators.xlsx?{same}&amp;lang=fr"' in page
    assert "/reports/monthly.pdf" not in page  # the monthly pack is for months only
    # The picker shows the campaign: kind selected, both dates filled in.
    assert '<option value="campaign" selected>' in page
    assert 'id="from" name="from" value="2026-03-10"' in page
    assert 'id="to" name="to" value="2026-04-30"' in page
    # The previous period of a 52-day campaign is the 52 days before it: 17 Jan – 9 Mar,
    # holding the 6 answers of 2 March (all satisfied).
    assert "Période précédente : 100,0\u202f%" in card(page)
    assert "/reports/monthly.pdf?period=2026-03" in get("kind=month&period=2026-03")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("kind=campaign&from=2026-03-31&to=2026-03-01", "se termine avant de commencer"),
        ("kind=campaign&from=2026-02-30&to=2026-03-01", "ne sont pas des dates valides"),
        ("kind=campaign&from=2026-03-01&to=", "Indiquez la date de début et la date de fin"),
        ("kind=campaign&from=2020-01-01&to=2026-03-01", "Une campagne dure au plus trois ans"),
        ("kind=month&period=2026-13", "« 2026-13 » ne désigne pas une période de ce type"),
        ("kind=week&period=%3Cb%3Ex", "« &lt;b&gt;x » ne désigne pas une période"),
        ("kind=year&period=2999", "Cette période n'a pas encore commencé"),
        ("kind=decade&period=2020", "Type de période inconnu."),
    ],
)  # fmt: skip
def test_bad_input_is_worded_and_the_default_period_shown(overview, query, message):
    server, get = overview
    page = get(query)
    assert message in page
    kind = dict(p.split("=", 1) for p in query.split("&"))["kind"]
    shown = default_period(kind if kind != "decade" else "month", town_today(server.settings))
    label = period_label(shown, "fr")
    assert f"Période affichée à la place : {label}." in page
    assert f"Satisfaction et attente · {label}</h1>" in page
    assert "<b>x" not in page


def test_bad_input_is_worded_in_english_too(overview):
    _server, get = overview
    page = get("kind=campaign&from=2026-03-31&to=2026-03-01&lang=en")
    assert "The campaign ends before it starts" in page
    assert "Period shown instead:" in page


def test_a_service_manager_sees_only_own_desks_for_a_campaign(overview):
    server, get = overview
    add_user(server.storage, "ec", "service_manager", ["etat-civil"])
    manager = server.login_session(server.client(), "ec", "service_manager")
    page = get("kind=campaign&from=2026-03-10&to=2026-04-30", who=manager)
    assert f'data-service="{SERVICE}"' not in page
    assert rate(page, "etat-civil") == "100,0\u202f%"  # 7 of 7 on 12 March
    export = manager.get(f"{server.url}/export/indicators.csv?kind=campaign"
                         "&period=2026-03-10..2026-04-30")  # fmt: skip
    assert SERVICE not in export.content.decode("utf-8-sig")
