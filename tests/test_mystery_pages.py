"""Mystery visits and calls on the real app in-process (temp SQLite, the demo town): the quality
manager enters an evaluation and reads its score; inputs off the grid, in the future or for a
service outside the certified scope are refused with a 400 and nothing stored; a service manager
reads their services' results only, the administrator none; the scores per service and per
engagement for a period, beside the visitors' satisfaction of the same period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from sync_server.indicators.periods import containing
from sync_server.storage import audit, schema
from tests.fixtures.server import add_user
from tests.tools.desk_records import answers
from tests.tools.page_text import text
from tests.tools.staff_forms import post, sign_in

QUALITY, CHEF, ADMIN = "qualite", "chef-iris", "informatique"
TODAY = datetime.now(ZoneInfo("Europe/Paris")).date()
LAST_MONTH = containing("month", TODAY).previous()
DAY = LAST_MONTH.start + timedelta(days=4)
IRIS = {"service": "iris", "site": "centre-administratif"}


@pytest.fixture
def town(app_server):
    add_user(app_server.storage, QUALITY, "quality_manager")
    add_user(app_server.storage, CHEF, "service_manager", ["iris"])
    add_user(app_server.storage, ADMIN, "admin")
    return app_server


def enter(server, session, channel="reception", **fields):
    data = {"channel": channel, **IRIS, "visited_on": DAY.isoformat(),
            "evaluator": "Cabinet Regard", "comment": "Accueil chaleureux", **fields}  # fmt: skip
    return post(server, session, "/mystery", data, page=f"/mystery/new?channel={channel}")


def stored(server) -> int:
    with server.storage.read() as connection:
        table = schema.mystery_evaluations
        return connection.scalar(sa.select(sa.func.count()).select_from(table))


def events(server) -> list[audit.AuditEvent]:
    with server.storage.read() as connection:
        return [e for e in audit.events(connection, limit=1000) if e.action == "mystery.recorded"]


def test_an_evaluation_entered_reads_with_its_score(town):
    quality = sign_in(town, QUALITY)
    form = quality.get(f"{town.url}/mystery/new?channel=reception")
    assert form.status_code == 200
    assert "L'agent salue le visiteur" in text(form.text)
    # Greets: yes (weight 1); courtesy 3 of 4 (weight 2); wait 1 of 4 (weight 2); rest unseen.
    response = enter(town, quality, **{"answer-acc-greets": "1", "answer-acc-courtesy": "3",
                                       "answer-acc-wait": "1", "answer-acc-hours": ""})  # fmt: skip
    assert response.status_code == 303, text(response.text)
    page = quality.get(f"{town.url}{response.headers['location']}")
    expected = (100 + 2 * 200 / 3 + 0) / 5
    assert f'data-score="{expected:.1f}"' in page.text
    assert "Cabinet Regard" in page.text
    assert 'data-engagement="ACC-01" data-score="0.0"' in page.text
    [event] = events(town)
    assert event.actor.name == QUALITY
    assert (event.details["service"], event.details["score"]) == ("iris", round(expected, 1))


@pytest.mark.parametrize(
    "fields",
    [
        {"answer-nope": "1", "answer-acc-greets": "1"},  # unknown criterion
        {"answer-tel-pickup": "2", "answer-acc-greets": "1"},  # another channel's criterion
        {"answer-acc-courtesy": "5"},  # off the scale
        {"answer-acc-greets": "2"},
        {"answer-acc-greets": ""},  # nothing evaluated
        {"answer-acc-greets": "1", "visited_on": (TODAY + timedelta(days=1)).isoformat()},
        {"answer-acc-greets": "1", "visited_on": "hier"},
        {"answer-acc-greets": "1", "service": "logement"},  # planned, not certified yet
        {"answer-acc-greets": "1", "service": "nulle-part"},
        {"answer-acc-greets": "1", "site": "clavim"},  # no iris desk there
    ],
)
def test_inputs_off_the_grid_or_the_scope_are_refused_and_nothing_stored(town, fields):
    quality = sign_in(town, QUALITY)
    response = enter(town, quality, **fields)
    assert response.status_code == 400
    assert "Rien n'a été enregistré" in text(response.text)
    assert stored(town) == 0
    assert events(town) == []


def test_service_managers_read_their_services_and_administrators_nothing(town):
    quality, chef, admin = sign_in(town, QUALITY), sign_in(town, CHEF), sign_in(town, ADMIN)
    iris = enter(town, quality, **{"answer-acc-greets": "1"}).headers["location"]
    civil = enter(town, quality, service="etat-civil", site="hotel-de-ville",
                  **{"answer-acc-greets": "0"}).headers["location"]  # fmt: skip
    period = f"?kind=month&period={LAST_MONTH.key}"
    assert chef.get(f"{town.url}{iris}").status_code == 200
    assert chef.get(f"{town.url}{civil}").status_code == 403
    listing = chef.get(f"{town.url}/mystery{period}").text
    assert f'data-evaluation="{iris.rsplit("/", 1)[1]}"' in listing
    assert f'data-evaluation="{civil.rsplit("/", 1)[1]}"' not in listing
    assert "/mystery/new" not in listing
    assert chef.get(f"{town.url}/mystery{period}&service=etat-civil").status_code == 403
    # Reading only: the form, the grid and the post are refused.
    assert chef.get(f"{town.url}/mystery/new").status_code == 403
    assert chef.get(f"{town.url}/mystery/grid").status_code == 403
    assert enter(town, chef, **{"answer-acc-greets": "1"}).status_code == 403
    for address in ("/mystery", iris, "/mystery/new", "/mystery/grid"):
        assert admin.get(f"{town.url}{address}", follow_redirects=False).status_code in (
            303, 403), address  # fmt: skip
    assert "/mystery" not in admin.get(f"{town.url}/fleet").text
    assert stored(town) == 2


def test_scores_per_service_and_engagement_beside_the_visitors_satisfaction(town):
    quality = sign_in(town, QUALITY)
    at = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    answers(town.storage, ["satisfied"] * 9 + ["dissatisfied"] * 3, at)
    enter(town, quality, **{"answer-acc-greets": "1", "answer-acc-courtesy": "4"})  # 100
    enter(town, quality, **{"answer-acc-greets": "0", "answer-acc-courtesy": "1"})  # 0
    enter(town, quality, **{"answer-acc-greets": "1"})  # 100, ACC-02 only
    enter(town, quality, visited_on=(LAST_MONTH.start - timedelta(days=1)).isoformat(),
          **{"answer-acc-greets": "0"})  # fmt: skip  # the month before: not counted
    page = quality.get(f"{town.url}/mystery?kind=month&period={LAST_MONTH.key}").text
    row = page.split('<tr data-service="iris">', 1)[1].split("</tr>", 1)[0]
    assert 'data-mystery-score="66.7"' in row
    assert "3 évaluations" in text(row)
    assert "75" in text(row.split("data-satisfaction", 1)[1])
    assert "12 réponses" in text(row)
    assert 'data-engagement="ACC-02" data-score="66.7" data-n="3"' in page
    assert 'data-engagement="ACC-01"' not in page
    # Filtered by channel: no telephone evaluation in the period.
    phone = quality.get(f"{town.url}/mystery?kind=month&period={LAST_MONTH.key}&channel=phone")
    assert "Aucune évaluation mystère sur cette période" in text(phone.text)


def test_the_quality_manager_edits_the_grid_and_past_scores_do_not_move(town):
    quality = sign_in(town, QUALITY)
    number = enter(town, quality, **{"answer-acc-greets": "1", "answer-acc-courtesy": "1"})
    address = number.headers["location"]
    before = (100 + 0) / 3
    assert f'data-score="{before:.1f}"' in quality.get(f"{town.url}{address}").text
    courtesy = {"key": "acc-courtesy", "engagement": "ACC-02", "label": "Amabilité",
                "kind": "scale", "top": "4", "weight": "1"}  # fmt: skip
    saved = post(town, quality, "/mystery/grid", {**courtesy, "retired": "on"}, "/mystery/grid")
    assert saved.status_code == 303
    form = quality.get(f"{town.url}/mystery/new?channel=reception").text
    assert 'data-criterion="acc-courtesy"' not in form
    assert enter(town, quality, **{"answer-acc-courtesy": "2"}).status_code == 400
    # The evaluation entered before keeps its score (weight 2 then).
    assert f'data-score="{before:.1f}"' in quality.get(f"{town.url}{address}").text
    added = {"key": "tel-smile", "engagement": "TEL-01", "label": "Sourire dans la voix",
             "kind": "yes_no", "weight": "3"}  # fmt: skip
    assert post(town, quality, "/mystery/grid", added, "/mystery/grid").status_code == 303
    assert "Sourire dans la voix" in quality.get(f"{town.url}/mystery/new?channel=phone").text
    for bad in ({**added, "engagement": "ZZZ-99"}, {**added, "weight": "0"},
                {**added, "kind": "scale", "top": "11"}, {**added, "key": "Pas Bon"}):  # fmt: skip
        refused = post(town, quality, "/mystery/grid", bad, "/mystery/grid")
        assert refused.status_code == 400
        assert "Rien n'a été modifié" in text(refused.text)
    with town.storage.read() as connection:
        saved_events = [e for e in audit.events(connection, limit=100)
                        if e.action == "mystery.criterion_saved"]  # fmt: skip
    assert [e.object for e in saved_events] == ["tel-smile", "acc-courtesy"]
