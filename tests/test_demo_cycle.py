"""The demo town's year of quality work, and the overview's panel on the quality cycle: a newcomer
who logs in to the demo sees the plan, the audits and the mystery visits of a year at work."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from qualivilles.bundled import DEMO_TOWN_FILE
from sync_server.app import create_app
from sync_server.cycle.glance import glance
from sync_server.cycle.internal_audits import Audit
from sync_server.cycle.meetings import Meeting
from sync_server.cycle.plan import STATUSES
from sync_server.demo.command import demo_settings, prepare
from sync_server.settings import Settings
from sync_server.storage import internal_audits, meetings, mystery, plan, users
from sync_server.storage.models import PlanAction
from sync_server.web.meeting_preparation import thawed
from tests.fixtures.web import log_in

TODAY = date(2026, 11, 18)


def _action(number: int, status: str, due: date | None = None, done: date | None = None):
    at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    return PlanAction(
        id=number, title=f"Action {number}", origin="meeting", status=status, services=("iris",),
        engagement=None, indicator=None, site=None, owner=None, due_on=due, year=None,
        created_by="qualite", created_at=at, updated_by="qualite", updated_at=at,
        done_at=datetime.combine(done, datetime.min.time(), UTC) if done else None,
    )  # fmt: skip


def _audit(number: int, day: date, status: str = "planned") -> Audit:
    return Audit(number, "iris", day, ("a", "b"), status)


# The glance, a pure rule ------------------------------------------------------------------------


def test_an_overdue_action_counts_as_overdue_only():
    late = _action(1, "in_progress", due=TODAY - timedelta(days=1))
    proposed_late = _action(2, "proposed", due=TODAY - timedelta(days=3))
    due_today = _action(3, "validated", due=TODAY)
    seen = glance([late, proposed_late, due_today], [], TODAY)
    assert (seen.overdue, seen.awaiting_validation, seen.under_way) == (2, 0, 1)


def test_only_this_years_completions_count_and_closed_actions_are_never_late():
    this_year = _action(1, "done", due=TODAY - timedelta(days=90), done=date(2026, 2, 1))
    last_year = _action(2, "done", done=date(2025, 12, 31))
    dropped = _action(3, "abandoned", due=TODAY - timedelta(days=9))
    seen = glance([this_year, last_year, dropped], [], TODAY)
    assert (seen.done_this_year, seen.overdue) == (1, 0)


def test_the_next_audit_is_the_earliest_planned_from_today():
    audits = [
        _audit(1, TODAY - timedelta(days=1)),  # planned but past: not "next"
        _audit(2, TODAY + timedelta(days=40)),
        _audit(3, TODAY + timedelta(days=10), status="cancelled"),
        _audit(4, TODAY + timedelta(days=20)),
        _audit(5, TODAY),
    ]
    assert glance([], audits, TODAY).next_audit.id == 5
    assert glance([], audits[:4], TODAY).next_audit.id == 4
    assert glance([], audits[:1], TODAY).next_audit is None


@given(
    st.lists(
        st.tuples(
            st.sampled_from(STATUSES),
            st.none() | st.integers(-60, 60),
            st.none() | st.integers(0, 700),
        ),
        max_size=30,
    )
)
def test_no_action_is_counted_twice(specs):
    actions = [
        _action(
            n,
            status,
            due=None if due is None else TODAY + timedelta(days=due),
            done=None if status != "done" or done is None else TODAY - timedelta(days=done),
        )
        for n, (status, due, done) in enumerate(specs)
    ]
    seen = glance(actions, [], TODAY)
    counted = seen.overdue + seen.awaiting_validation + seen.under_way + seen.done_this_year
    assert counted <= len(actions)
    open_ones = [a for a in actions if a.status not in ("done", "abandoned")]
    assert seen.overdue + seen.awaiting_validation + seen.under_way == len(open_ones)


def test_the_next_meeting_is_the_earliest_not_held_from_today():
    def meeting(number: int, days: int, held: bool = False, status: str = "open") -> Meeting:
        day = TODAY + timedelta(days=days)
        return Meeting(number, day, day if held else None, "", "", status, "qualite")

    ahead = [meeting(1, -3), meeting(2, 12), meeting(3, 5, held=True), meeting(4, 8),
             meeting(5, 2, status="closed")]  # fmt: skip
    assert glance([], [], TODAY, ahead).next_meeting.id == 4
    assert glance([], [], TODAY, ahead[:1]).next_meeting is None


# The demo's year ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo command's database, prepared today (the overview reads today's date)."""
    town = json.loads(DEMO_TOWN_FILE.read_text(encoding="utf-8"))
    folder = tmp_path_factory.mktemp("cycle") / "demo"
    setup = prepare(folder, demo_settings(Settings()), seed=7, town=town)
    yield setup
    setup.storage.close()


def _today(demo) -> date:
    from sync_server.web.figures import today

    return today(demo.settings)


def test_the_demo_holds_a_year_of_actions_of_every_origin_and_status(demo):
    with demo.storage.read() as connection:
        actions = plan.actions(connection)
    assert {a.status for a in actions} == set(STATUSES)
    assert {a.origin for a in actions} >= {
        "indicator_miss", "complaint", "alert", "internal_audit", "afnor_audit", "meeting",
        "staff_suggestion",
    }  # fmt: skip
    created = sorted(a.created_at for a in actions)
    assert created[-1] - created[0] >= timedelta(days=300)
    # Next year's proposals wait for the quality manager's validation.
    next_year = [a for a in actions if a.year == _today(demo).year + 1]
    assert next_year
    assert all(a.status == "proposed" for a in next_year)
    # One action is late: the overview says so.
    seen = glance(actions, [], _today(demo))
    assert seen.overdue >= 1


def test_the_demo_holds_audits_held_with_findings_and_audits_to_come(demo):
    today = _today(demo)
    with demo.storage.read() as connection:
        audits = [a for y in (today.year - 1, today.year, today.year + 1)
                  for a in internal_audits.of_year(connection, y)]  # fmt: skip
        findings = {a.id: internal_audits.findings(connection, a.id) for a in audits}
    held = [a for a in audits if a.status == "report_issued"]
    coming = [a for a in audits if a.status == "planned" and a.audit_on >= today]
    assert len(held) >= 3
    assert len(coming) >= 2
    verdicts = {f.verdict for a in held for f in findings[a.id]}
    assert verdicts == {"conformity", "non_conformity", "observation", "strong_point"}
    # Every non-conformity opened an action of the plan.
    assert all(
        f.action_id is not None
        for a in held
        for f in findings[a.id]
        if f.verdict == "non_conformity"
    )


def test_the_demo_holds_a_year_of_mystery_visits_and_calls(demo):
    today = _today(demo)
    with demo.storage.read() as connection:
        found = mystery.evaluations(connection)
    days = sorted(e.visited_on for e in found)
    assert (today - days[0]).days >= 330
    assert (today - days[-1]).days <= 40
    assert {e.channel for e in found} == {"reception", "phone"}
    assert all(e.answers for e in found)


def test_the_demo_holds_two_meetings_held_and_the_next_one_planned(demo):
    today = _today(demo)
    with demo.storage.read() as connection:
        every = meetings.every(connection)
        decided = {m.id: meetings.decisions(connection, m.id) for m in every}
        actions = {a.id: a for a in plan.actions(connection)}
    held = [m for m in every if m.status == "closed"]
    assert len(held) == 2
    assert all(m.held_on and m.held_on < today and m.attendees for m in held)
    [coming] = [m for m in every if m.status == "open"]
    assert coming.planned_on > today
    opened = [d.action_id for m in held for d in decided[m.id] if d.action_id is not None]
    assert [actions[number].origin for number in opened] == ["meeting"]
    # Closed as the page closes them: each keeps its preparation, made on its closing day.
    for meeting in held:
        with demo.storage.read() as connection:
            text = meetings.frozen_preparation(connection, meeting.id)
        assert text is not None
        kept = thawed(text, meeting)
        assert kept is not None
        assert kept.kept
        assert meeting.closed_at is not None
        assert kept.today == meeting.closed_at.astimezone(demo.storage.zone).date()
        assert kept.desks
    # Its page says which day the register's overdue entries were counted on, and does not link
    # them to today's list.
    app = create_app(demo.settings, demo.storage)
    user = demo.town["demo"]["user"]
    closed = held[0]
    assert closed.closed_at is not None
    closed_day = closed.closed_at.astimezone(demo.storage.zone).strftime("%d/%m/%Y")
    with TestClient(app, follow_redirects=False) as client:
        log_in(client, user["username"], user["password"])
        page = client.get(f"/meetings/{closed.id}").text
    register = page[page.index("data-prep-register") : page.index("data-prep-alerts")]
    assert f"en retard le {closed_day}" in register
    assert "data-register=" in register
    assert 'href="/comments' not in register


def test_the_demo_team_can_log_in_with_each_role(demo):
    team = demo.town["demo"]["team"]
    with demo.storage.read() as connection:
        for member in team:
            user = users.authenticate(connection, member["username"], member["password"])
            assert user is not None
            assert user.role == member["role"]
    assert {m["role"] for m in team} == {"internal_auditor", "service_manager"}


def _panel(html: str) -> dict[str, str]:
    section = re.search(r"<section class=\"cycle-glance\".*?</section>", html, re.S)
    assert section, "no quality-cycle panel on the overview"
    items = re.findall(r'<li data-cycle="([a-z-]+)">(.*?)</li>', section.group(0), re.S)
    return {key: re.sub(r"<[^>]+>", "", text).strip() for key, text in items}


def test_the_overview_shows_the_cycle_to_those_who_carry_out_actions(demo):
    today = _today(demo)
    with demo.storage.read() as connection:
        every = plan.actions(connection)
        etat_civil = plan.actions(connection, plan.Filter(services=["etat-civil"]))
        audits = [a for y in (today.year, today.year + 1)
                  for a in internal_audits.of_year(connection, y)]  # fmt: skip
    app = create_app(demo.settings, demo.storage)
    with TestClient(app, follow_redirects=False) as client:
        user = demo.town["demo"]["user"]
        log_in(client, user["username"], user["password"])
        panel = _panel(client.get("/").text)
    expected = glance(every, audits, today)
    assert panel["overdue"].startswith(str(expected.overdue))
    assert panel["awaiting"].startswith(str(expected.awaiting_validation))
    assert panel["under-way"].startswith(str(expected.under_way))
    assert expected.next_audit is not None
    assert "Prochain audit interne" in panel["next-audit"]
    assert "Prochaine réunion Qualivilles" in panel["next-meeting"]
    # The service manager sees the plan of their service only.
    member = next(m for m in demo.town["demo"]["team"] if m["role"] == "service_manager")
    with TestClient(app, follow_redirects=False) as client:
        log_in(client, member["username"], member["password"])
        panel = _panel(client.get("/").text)
    own = glance(etat_civil, [], today)
    assert panel["awaiting"].startswith(str(own.awaiting_validation))
    assert own.awaiting_validation < expected.awaiting_validation


# Who runs what of the cycle, walked with the demo's team ---------------------------------------


def _numbers(demo) -> dict[str, int]:
    """The demo's records that the walk opens: an action and an audit of each kind of reader."""
    today = _today(demo)
    with demo.storage.read() as connection:
        actions = plan.actions(connection)
        audits = [a for a in internal_audits.of_year(connection, today.year) if a.audit_on <= today]
    return {
        "iris_action": next(a.id for a in actions if a.services == ("iris",)),
        "own_action": next(a.id for a in actions if a.services == ("etat-civil",)),
        "own_audit": next(a.id for a in audits if a.service == "etat-civil"),
        "other_pair_audit": next(a.id for a in audits if "audit.durand" not in a.auditors),
        "year": today.year,
    }


# Each page of the cycle and who gets it (200) or is refused (403); the internal auditor and the
# administrator have no overview: they are sent (303) to their own first page. The quality
# manager reads the accounts (who may do what) but only the administrator changes them.
CYCLE_WALK = {
    "/": {"quality_manager": 200, "service_manager": 200, "internal_auditor": 303, "admin": 303},
    "/referential": {"quality_manager": 200, "service_manager": 403, "internal_auditor": 403,
                     "admin": 403},
    "/actions": {"quality_manager": 200, "service_manager": 200, "internal_auditor": 403,
                 "admin": 403},
    "/actions/{iris_action}": {"quality_manager": 200, "service_manager": 403,
                               "internal_auditor": 403, "admin": 403},
    "/actions/{own_action}": {"quality_manager": 200, "service_manager": 200,
                              "internal_auditor": 403, "admin": 403},
    "/audits": {"quality_manager": 200, "service_manager": 200, "internal_auditor": 200,
                "admin": 403},
    "/audits/{own_audit}": {"quality_manager": 200, "service_manager": 200,
                            "internal_auditor": 200, "admin": 403},
    "/audits/{other_pair_audit}": {"quality_manager": 200, "service_manager": 403,
                                   "internal_auditor": 403, "admin": 403},
    "/mystery": {"quality_manager": 200, "service_manager": 200, "internal_auditor": 403,
                 "admin": 403},
    "/mystery/grid": {"quality_manager": 200, "service_manager": 403, "internal_auditor": 403,
                      "admin": 403},
    "/meetings": {"quality_manager": 200, "service_manager": 200, "internal_auditor": 403,
                  "admin": 403},
    "/evidence-pack?year={year}&service=etat-civil": {"quality_manager": 200,
                                                      "service_manager": 403,
                                                      "internal_auditor": 403, "admin": 403},
    "/admin/users": {"quality_manager": 200, "service_manager": 403, "internal_auditor": 403,
                     "admin": 200},
}  # fmt: skip


def test_each_role_runs_its_part_of_the_cycle_and_no_more(demo):
    """The quality manager runs all of it; a service manager reads and acts on their service;
    an internal auditor reaches only the audits of their pair; the administrator manages the
    accounts, not the content."""
    numbers = _numbers(demo)
    team = {m["role"]: (m["username"], m["password"]) for m in reversed(demo.town["demo"]["team"])}
    team["quality_manager"] = (demo.town["demo"]["user"]["username"],
                               demo.town["demo"]["user"]["password"])  # fmt: skip
    team["admin"] = ("admin.demo", "un mot de passe d'administrateur")
    with demo.storage.write() as connection:
        if users.get(connection, "admin.demo") is None:
            users.create(connection, username="admin.demo", password=team["admin"][1], role="admin")
    app = create_app(demo.settings, demo.storage)
    seen: dict[str, dict[str, int]] = {}
    for role, (username, password) in team.items():
        with TestClient(app, follow_redirects=False) as client:
            log_in(client, username, password)
            for path in CYCLE_WALK:
                status = client.get(path.format(**numbers)).status_code
                seen.setdefault(path, {})[role] = status
    assert seen == CYCLE_WALK
    # The plan a service manager reads holds their services' actions only.
    with TestClient(app, follow_redirects=False) as client:
        log_in(client, *team["service_manager"])
        listed = set(re.findall(r'href="/actions/(\d+)"', client.get("/actions").text))
    with demo.storage.read() as connection:
        own = {str(a.id) for a in plan.actions(connection, plan.Filter(services=["etat-civil"]))}
    assert listed == own
