"""The improvement plan on the real app in-process (temp SQLite, the demo town): who may propose,
validate and carry out an action, status steps refused with a clear 400 and nothing changed, the
overdue notice on the overview and the plan, and the effect of a done action measured before and
after — the same figures the service page gives for those dates."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from sync_server.cycle.effect import shift_months
from sync_server.storage import audit, plan
from tests.fixtures.server import add_user
from tests.tools.desk_records import answers
from tests.tools.figure_reads import page_rows
from tests.tools.page_text import text, text_of
from tests.tools.staff_forms import post, sign_in

QUALITY, CHEF, ADMIN = "qualite", "chef-iris", "informatique"
PARIS = ZoneInfo("Europe/Paris")
TODAY = datetime.now(PARIS).date()
STATE_CIVIL = ("hotel-de-ville", "etat-civil")
LIBRARIES = ("mediatheque-centre-ville", "mediatheque-chartreux", "mediatheque-ile-saint-germain")


@pytest.fixture
def town(app_server):
    add_user(app_server.storage, QUALITY, "quality_manager")
    add_user(app_server.storage, CHEF, "service_manager", ["iris"])
    add_user(app_server.storage, ADMIN, "admin")
    return app_server


def propose(server, session, **fields) -> int:
    data = {"title": "Deuxième agent le lundi matin", "origin": "indicator_miss",
            "services": ["iris"], **fields}  # fmt: skip
    response = post(server, session, "/actions", data, page="/actions")
    assert response.status_code == 303, text(response.text)
    return int(response.headers["location"].rsplit("/", 1)[1])


def stored(server, action_id: int):
    with server.storage.read() as connection:
        return plan.get(connection, action_id)


def events(server, action: str) -> list[audit.AuditEvent]:
    with server.storage.read() as connection:
        return [e for e in audit.events(connection, limit=10_000) if e.action == action]


def move(server, session, action_id: int, status: str):
    page = f"/actions/{action_id}"
    return post(server, session, f"{page}/status", {"status": status}, page=page)


# -- who may do what -------------------------------------------------------------------------


def test_a_service_manager_proposes_for_their_service_and_the_quality_manager_validates(town):
    chef, quality = sign_in(town, CHEF), sign_in(town, QUALITY)
    action_id = propose(town, chef, owner="M. Martin", due_on="2027-01-31",
                        engagement="ACC-01", indicator="within_threshold_rate")  # fmt: skip
    action = stored(town, action_id)
    assert (action.status, action.services, action.created_by) == ("proposed", ("iris",), CHEF)
    assert (action.engagement, action.due_on) == ("ACC-01", date(2027, 1, 31))
    [event] = events(town, "action.proposed")
    assert event.object == str(action_id)
    assert event.actor.name == CHEF
    assert event.details["services"] == ["iris"]
    assert "title" not in event.details
    assert "lundi" not in str(event.details)
    # The service manager may not validate: refused, said why, nothing changed.
    refused = move(town, chef, action_id, "validated")
    assert refused.status_code == 400
    assert "Seul le ou la responsable qualité valide ou abandonne" in text(refused.text)
    assert stored(town, action_id).status == "proposed"
    assert events(town, "action.validated") == []
    assert move(town, quality, action_id, "validated").status_code == 303
    validated = stored(town, action_id)
    assert (validated.status, validated.validated_by) == ("validated", QUALITY)
    [event] = events(town, "action.validated")
    assert event.details == {"plan_status": {"before": "proposed", "after": "validated"}}
    # Carrying it out is the service manager's too.
    assert move(town, chef, action_id, "in_progress").status_code == 303
    assert move(town, chef, action_id, "done").status_code == 303
    done = stored(town, action_id)
    assert done.status == "done"
    assert done.done_at is not None
    assert len(events(town, "action.status_changed")) == 2


def test_a_service_manager_cannot_propose_for_another_service_nor_read_its_actions(town):
    chef, quality = sign_in(town, CHEF), sign_in(town, QUALITY)
    other = propose(town, quality, services=["etat-civil"])
    elsewhere = {"title": "Affichage", "origin": "meeting", "services": ["etat-civil"]}
    refused = post(town, chef, "/actions", elsewhere, page="/actions")
    assert refused.status_code == 403
    assert len(events(town, "action.proposed")) == 1
    assert chef.get(f"{town.url}/actions/{other}").status_code == 403
    assert chef.get(f"{town.url}/actions?service=etat-civil").status_code == 403
    listing = chef.get(f"{town.url}/actions").text
    assert f'data-action="{other}"' not in listing
    # Nor change it, whatever they post.
    assert move(town, chef, other, "abandoned").status_code == 403
    edit = {"title": "Repris", "origin": "meeting", "services": ["iris"]}
    assert post(town, chef, f"/actions/{other}", edit, page="/actions").status_code == 403
    assert stored(town, other).title == "Deuxième agent le lundi matin"


def test_the_administrator_sees_no_action_nor_the_referential(town):
    quality, admin = sign_in(town, QUALITY), sign_in(town, ADMIN)
    action_id = propose(town, quality)
    for path in ("/actions", f"/actions/{action_id}", "/referential"):
        response = admin.get(f"{town.url}{path}")
        assert response.status_code == 403, path
        assert "Deuxième agent" not in response.text
    assert 'href="/actions"' not in admin.get(f"{town.url}/fleet").text
    assert 'href="/actions"' in quality.get(f"{town.url}/").text
    assert 'href="/referential"' in quality.get(f"{town.url}/").text
    chef_home = sign_in(town, CHEF).get(f"{town.url}/").text
    assert 'href="/actions"' in chef_home
    assert 'href="/referential"' not in chef_home
    assert sign_in(town, CHEF).get(f"{town.url}/referential").status_code == 403


# -- steps refused -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "wanted"),
    [([], "done"), ([], "in_progress"), (["validated", "done"], "in_progress"),
     (["abandoned"], "validated"), ([], "finished")],
)  # fmt: skip
def test_a_step_that_does_not_exist_is_refused_with_nothing_changed(town, steps, wanted):
    quality = sign_in(town, QUALITY)
    action_id = propose(town, quality)
    for step in steps:
        assert move(town, quality, action_id, step).status_code == 303
    before, count = stored(town, action_id), len(events(town, "action.status_changed"))
    response = move(town, quality, action_id, wanted)
    assert response.status_code == 400
    assert "ne peut pas passer à" in text(response.text)
    assert "Rien n'a changé" in text(response.text)
    assert stored(town, action_id) == before
    assert len(events(town, "action.status_changed")) == count


def test_a_proposal_with_wrong_values_is_refused_and_says_what(town):
    quality = sign_in(town, QUALITY)
    bad = {"title": "", "origin": "rumour", "services": ["bakery"], "due_on": "31/12/2026",
           "indicator": "speed", "engagement": "XYZ-1"}  # fmt: skip
    response = post(town, quality, "/actions", bad, page="/actions")
    assert response.status_code == 400
    said = text(response.text)
    for problem in ("Donnez un intitulé", "Choisissez l'origine", "Choisissez au moins un service",
                    "Échéance invalide", "Indicateur inconnu", "Engagement inconnu"):  # fmt: skip
        assert problem in said, problem
    assert events(town, "action.proposed") == []


def test_an_edit_is_recorded_field_by_field_without_the_title(town):
    quality = sign_in(town, QUALITY)
    action_id = propose(town, quality)
    edit = {"title": "Un troisième agent", "origin": "complaint", "services": ["iris", "ccas"],
            "owner": "Mme Durand", "due_on": "2027-03-01"}  # fmt: skip
    page = f"/actions/{action_id}"
    assert post(town, quality, page, edit, page=page).status_code == 303
    action = stored(town, action_id)
    assert (action.title, action.services, action.owner) == (
        "Un troisième agent", ("ccas", "iris"), "Mme Durand")  # fmt: skip
    [event] = events(town, "action.edited")
    assert event.details["origin"] == {"before": "indicator_miss", "after": "complaint"}
    assert event.details["services"] == {"before": ["iris"], "after": ["ccas", "iris"]}
    assert event.details["retitled"] is True
    assert "troisième" not in str(event.details)


# -- overdue -----------------------------------------------------------------------------------


def test_overdue_actions_stand_out_on_the_overview_and_the_plan(town):
    quality, chef = sign_in(town, QUALITY), sign_in(town, CHEF)
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    late = propose(town, quality, due_on=yesterday)
    propose(town, quality, due_on=(TODAY + timedelta(days=30)).isoformat())
    done = propose(town, quality, due_on=yesterday)
    for step in ("validated", "done"):
        move(town, quality, done, step)
    elsewhere = propose(town, quality, services=["ccas"], due_on=yesterday)
    overview = quality.get(f"{town.url}/").text
    assert 'data-overdue-actions="2"' in overview
    assert "2 actions d'amélioration en retard" in text(overview)
    # The service manager is told of their own services' only.
    assert 'data-overdue-actions="1"' in chef.get(f"{town.url}/").text
    listing = quality.get(f"{town.url}/actions?overdue=1").text
    shown = re.findall(r'<li class="entry is-overdue" data-action="(\d+)"', listing)
    assert sorted(map(int, shown)) == sorted([late, elsewhere])
    assert f'data-action="{done}"' not in listing
    page = quality.get(f"{town.url}/actions/{late}").text
    assert "data-overdue" in page
    assert "En retard" in text(page)
    for step in ("validated", "abandoned"):
        move(town, quality, late, step)
    assert 'data-overdue-actions="1"' in quality.get(f"{town.url}/").text


# -- the effect of a done action ---------------------------------------------------------------


def at_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=PARIS).astimezone(UTC)


def complete(server, action_id: int, day: date) -> None:
    """Mark the action done on `day` (a completion in the past: through storage, as the page
    would have done that day)."""
    with server.storage.write() as connection:
        plan.move(connection, action_id, "validated", may_validate=True, by=QUALITY,
                  now=at_noon(day) - timedelta(days=40))  # fmt: skip
        plan.move(connection, action_id, "done", may_validate=True, by=QUALITY, now=at_noon(day))


def effect_sides(page: str) -> dict[str, str]:
    return {
        side: text_of(value)
        for side, value in re.findall(
            r'data-effect-side="(\w+)">.*?<dd data-effect-value>(.*?)</dd>', page, re.S
        )
    }


def service_figure(session, server, service: str, first: date, last: date) -> dict[str, list]:
    query = f"kind=campaign&from={first.isoformat()}&to={last.isoformat()}"
    page = session.get(f"{server.url}/service/{service}?{query}").text
    return {site: rows["satisfaction_rate"] for site, rows in page_rows(page).items()}


def test_the_effect_is_the_service_pages_figure_before_and_after(town):
    quality = sign_in(town, QUALITY)
    done = TODAY - timedelta(days=120)
    before_start, after_end = shift_months(done, -3), shift_months(done, 3)
    answers(town.storage, ["satisfied"] * 8 + ["dissatisfied"] * 2,
            at_noon(before_start + timedelta(days=10)), desk=STATE_CIVIL)  # fmt: skip
    answers(town.storage, ["satisfied"] * 10 + ["dissatisfied"],
            at_noon(done + timedelta(days=20)), desk=STATE_CIVIL)  # fmt: skip
    # Outside both windows: counted by neither.
    answers(town.storage, ["dissatisfied"] * 5, at_noon(before_start - timedelta(days=2)),
            desk=STATE_CIVIL)  # fmt: skip
    action_id = propose(town, quality, services=["etat-civil"], indicator="satisfaction_rate")
    complete(town, action_id, done)
    page = quality.get(f"{town.url}/actions/{action_id}").text
    assert 'data-effect="measured"' in page
    sides = effect_sides(page)
    before = service_figure(quality, town, "etat-civil", before_start, done - timedelta(days=1))
    after = service_figure(quality, town, "etat-civil", done, after_end - timedelta(days=1))
    site = STATE_CIVIL[0]
    assert sides["before"] == f"{before[site][1]} (N = {before[site][2]})"
    assert sides["after"] == f"{after[site][1]} (N = {after[site][2]})"
    assert sides == {"before": "80,0\u202f% (N = 10)", "after": "90,9\u202f% (N = 11)"}


def test_a_services_desks_count_as_one_and_a_site_can_be_chosen(town):
    quality = sign_in(town, QUALITY)
    done = TODAY - timedelta(days=100)
    first = at_noon(shift_months(done, -3) + timedelta(days=5))
    for site, (satisfied, unhappy) in zip(LIBRARIES, [(5, 0), (4, 2), (3, 3)], strict=True):
        answers(town.storage, ["satisfied"] * satisfied + ["dissatisfied"] * unhappy, first,
                desk=(site, "mediatheques"))  # fmt: skip
    whole = propose(town, quality, services=["mediatheques"], indicator="satisfaction_rate")
    one = propose(town, quality, services=["mediatheques"], indicator="satisfaction_rate",
                  site=LIBRARIES[2])  # fmt: skip
    for action_id in (whole, one):
        complete(town, action_id, done)
    pooled = effect_sides(quality.get(f"{town.url}/actions/{whole}").text)
    # 12 satisfied of 17, not the mean of 100 %, 66,7 % and 50 %.
    assert pooled["before"] == "70,6\u202f% (N = 17)"
    assert "pas assez de réponses" not in pooled["after"]
    page = service_figure(quality, town, "mediatheques", shift_months(done, -3),
                          done - timedelta(days=1))  # fmt: skip
    weighted = sum(float(page[s][1][:-2].replace(",", ".")) * int(page[s][2]) for s in LIBRARIES)
    assert round(weighted / 17, 1) == 70.6
    alone = effect_sides(quality.get(f"{town.url}/actions/{one}").text)
    assert alone["before"] == f"{page[LIBRARIES[2]][1]} (N = 6)"


def test_the_measure_runs_until_the_months_after_are_over_and_needs_enough_answers(town):
    quality = sign_in(town, QUALITY)
    done = TODAY - timedelta(days=10)
    answers(town.storage, ["satisfied"] * 3, at_noon(done - timedelta(days=5)), desk=STATE_CIVIL)
    answers(town.storage, ["satisfied"] * 6, at_noon(done + timedelta(days=1)), desk=STATE_CIVIL)
    action_id = propose(town, quality, services=["etat-civil"], indicator="satisfaction_rate")
    not_done = quality.get(f"{town.url}/actions/{action_id}").text
    assert 'data-effect="not_done"' in not_done
    complete(town, action_id, done)
    page = quality.get(f"{town.url}/actions/{action_id}").text
    assert 'data-effect="measuring"' in page
    assert "Mesure en cours" in text(page)
    sides = effect_sides(page)
    assert sides["before"] == "pas assez de réponses (N = 3, il en faut 5)"
    assert sides["after"] == "100,0\u202f% (N = 6)"
    assert f"au {TODAY:%d/%m/%Y}" in text(page)
