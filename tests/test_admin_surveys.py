"""The surveys page on the real app in-process: published versions, one version's questions, a new
version uploaded as JSON and sent to an enrolled device's configuration; every refused upload
publishes nothing and leaves the current survey as it was."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from qualivilles.bundled import load_default_survey
from sync_server.storage import migrations, surveys
from sync_server.storage.surveys import content_hash, definition_json
from tests.fixtures.server import add_user
from tests.tools.page_text import text
from tests.tools.staff_forms import post, sign_in

ADMIN, MANAGER, CHEF = "informatique", "qualite", "chef-iris"
BUNDLED = load_default_survey()


@pytest.fixture
def town(app_server):
    storage = app_server.storage
    add_user(storage, ADMIN, "admin")
    add_user(storage, MANAGER, "quality_manager")
    add_user(storage, CHEF, "service_manager", ["iris"])
    return app_server


def town_survey(version: int = 1, title: str = "Votre avis sur l'accueil de la ville") -> dict:
    """The bundled survey under the town's own id, as an administrator would edit it."""
    data = definition_json(BUNDLED)
    return {
        **data,
        "id": "accueil-ville",
        "version": version,
        "title": {**data["title"], "fr": title},
    }


def upload(server, session: TestClient, body: bytes, name: str = "survey.json"):
    token = form_token_of(session.get(f"{server.url}/admin/surveys").text)
    return session.post(
        f"{server.url}/admin/surveys/upload",
        data={"csrf_token": token},
        files={"definition": (name, body, "application/json")},
        follow_redirects=False,
    )


def form_token_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def as_json(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def state(server) -> tuple:
    """What a refused upload must leave alone: every published row and the current survey."""
    with server.storage.read() as connection:
        current = surveys.current(connection)
        return surveys.published(connection), (current.id, current.version)


def device_config(server, token: str, etag: str | None = None) -> Response:
    headers = {"Authorization": f"Bearer {token}"}
    if etag:
        headers["If-None-Match"] = etag
    return server.client().get(f"{server.url}/api/v1/config", headers=headers)


def enrolled(server) -> str:
    response = server.client().post(f"{server.url}/api/v1/enrol", json={"code": server.enrol()})
    assert response.status_code == 200, response.text
    return response.json()["token"]


def test_the_page_lists_every_published_version_and_the_current_one(town):
    admin = sign_in(town, ADMIN)
    page = admin.get(f"{town.url}/admin/surveys")
    assert page.status_code == 200
    rows = re.findall(
        r'<tr data-survey="([^"]+)" data-version="(\d+)"( class="is-current")?', page.text
    )
    assert [(s, int(v), bool(c)) for s, v, c in rows] == [
        (BUNDLED.id, BUNDLED.version, True),
        *[(BUNDLED.id, v, False) for v in range(BUNDLED.version - 1, 0, -1)],
    ]
    assert content_hash(BUNDLED)[:12] in page.text
    assert "livré avec le logiciel" in page.text


def phone_title(server) -> str:
    """The survey title on the desk's phone page (as a visitor's phone sees it)."""
    page = server.client().get(f"{server.url}/s/centre-administratif/iris")
    assert page.status_code == 200
    return re.search(r"<h1>([^<]*)</h1>", page.text).group(1)


def test_a_valid_upload_is_published_made_current_and_sent_to_devices(town):
    token = enrolled(town)
    before = device_config(town, token)
    assert unescape(phone_title(town)) == BUNDLED.title["fr"]  # and the phone pages keep it
    assert before.json()["survey"]["id"] == BUNDLED.id
    admin = sign_in(town, ADMIN)
    response = upload(town, admin, as_json(town_survey()))
    assert response.status_code == 303
    page = admin.get(f"{town.url}{response.headers['location']}").text
    assert "Version accueil-ville v1 publiée" in text(page)
    assert re.search(r'<tr data-survey="accueil-ville" data-version="1" class="is-current"', page)
    after = device_config(town, token, etag=before.headers["etag"])
    assert after.status_code == 200
    assert (after.json()["survey"]["id"], after.json()["survey"]["version"]) == ("accueil-ville", 1)
    assert after.json()["survey"]["title"]["fr"] == "Votre avis sur l'accueil de la ville"
    # Phone survey too, at once (its pages keep what they read a moment): the uploaded survey.
    assert unescape(phone_title(town)) == "Votre avis sur l'accueil de la ville"


BAD_UPLOADS = [
    (b"", 400, "Choisissez un fichier JSON"),
    (b'{"id": "accueil-ville", "version": 1,,}', 400, "n'est pas du JSON valide"),
    ("\xe9t\xe9".encode("latin-1"), 400, "n'est pas du texte UTF-8"),
    (
        as_json({**town_survey(), "main_question": "why_unhappy"}),
        400,
        "n'est pas une définition de questionnaire valide",
    ),
    (as_json({**town_survey(), "version": 0, "questions": []}), 400, "Corrigez chacun"),
    (
        as_json({**definition_json(BUNDLED), "version": BUNDLED.version + 1}),
        400,
        "est celui du questionnaire livré avec le logiciel",
    ),
]


@pytest.mark.parametrize(("body", "status", "message"), BAD_UPLOADS)
def test_a_bad_upload_is_refused_with_a_clear_error_and_publishes_nothing(
    town, body, status, message
):
    admin = sign_in(town, ADMIN)
    before = state(town)
    response = upload(town, admin, body)
    assert response.status_code == status
    assert message in text(response.text)
    assert "Rien n'a été publié ni modifié." in text(response.text)
    assert state(town) == before


def test_invalid_definition_lists_every_problem_with_its_path(town):
    admin = sign_in(town, ADMIN)
    broken = town_survey()
    broken["questions"] = [dict(q) for q in broken["questions"]]
    broken["questions"][1]["show_if"] = {"question": "nowhere", "any_of": ["x"]}
    broken["languages"] = ["en"]
    response = upload(town, admin, as_json(broken))
    assert response.status_code == 400
    problems = re.findall(r"<li><code>([^<]+)</code></li>", response.text)
    assert any(p.startswith("questions[1].show_if.question") for p in problems), problems
    assert any(p.startswith("languages") for p in problems), problems


def test_the_same_version_with_other_content_is_refused(town):
    admin = sign_in(town, ADMIN)
    assert upload(town, admin, as_json(town_survey())).status_code == 303
    with town.storage.read() as connection:
        published = surveys.get(connection, "accueil-ville", 1)
    before = state(town)
    changed = upload(town, admin, as_json(town_survey(title="Un autre titre")))
    assert changed.status_code == 409
    message = text(changed.text)
    assert "La version accueil-ville v1 est déjà publiée avec un autre contenu" in message
    assert "augmentez le numéro de version" in message
    assert state(town) == before
    with town.storage.read() as connection:
        assert surveys.get(connection, "accueil-ville", 1) == published
    # The very same content again: told so, nothing changes.
    same = upload(town, admin, as_json(town_survey()))
    assert same.status_code == 303
    assert "déjà publiée avec exactement ce contenu" in text(
        admin.get(f"{town.url}{same.headers['location']}").text
    )
    assert state(town) == before


def test_an_older_version_can_be_made_current_again_and_stays_so(town):
    token = enrolled(town)
    admin = sign_in(town, ADMIN)
    upload(town, admin, as_json(town_survey(1)))
    upload(town, admin, as_json(town_survey(2, title="Deuxième version")))
    assert device_config(town, token).json()["survey"]["version"] == 2
    assert phone_title(town) == "Deuxième version"
    response = post(
        town,
        admin,
        "/admin/surveys/use",
        {"survey_id": "accueil-ville", "version": "1"},
        page="/admin/surveys",
    )
    assert response.status_code == 303
    survey = device_config(town, token).json()["survey"]
    assert (survey["id"], survey["version"]) == ("accueil-ville", 1)
    assert unescape(phone_title(town)) == "Votre avis sur l'accueil de la ville"
    # A software update publishing a newer bundled version does not override the town's choice.
    newer = BUNDLED.model_copy(update={"version": BUNDLED.version + 1})
    with town.storage.write() as connection:
        assert surveys.publish(connection, newer) is True
    migrations.upgrade(town.storage)
    with town.storage.read() as connection:
        current = surveys.current(connection)
    assert (current.id, current.version) == (
        "accueil-ville",
        1,
    )
    unknown = post(
        town,
        admin,
        "/admin/surveys/use",
        {"survey_id": "accueil-ville", "version": "9"},
        page="/admin/surveys",
    )
    assert unknown.status_code == 400
    with town.storage.read() as connection:
        assert surveys.current(connection).version == 1


def test_one_version_shows_its_questions_and_its_json(town):
    manager = sign_in(town, MANAGER)
    page = manager.get(f"{town.url}/admin/surveys/{BUNDLED.id}/{BUNDLED.version}")
    assert page.status_code == 200
    for question in BUNDLED.questions:
        assert f'data-question="{question.id}"' in page.text
        assert question.text["fr"] in text(page.text).replace("&#39;", "'")
    assert "question principale" in page.text
    download = manager.get(
        f"{town.url}/admin/surveys/{BUNDLED.id}/{BUNDLED.version}/definition.json"
    )
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    assert download.json() == definition_json(BUNDLED)
    missing = manager.get(f"{town.url}/admin/surveys/{BUNDLED.id}/99", follow_redirects=False)
    assert missing.status_code == 404


def test_the_quality_manager_may_publish_a_service_manager_may_not(town):
    manager = sign_in(town, MANAGER)
    assert upload(town, manager, as_json(town_survey())).status_code == 303
    chef = sign_in(town, CHEF)
    assert chef.get(f"{town.url}/admin/surveys", follow_redirects=False).status_code == 403
    before = state(town)
    # The refusal page carries the session's token (its sign-out form): a valid token, wrong role.
    token = form_token_of(chef.get(f"{town.url}/admin/surveys").text)
    refused = chef.post(
        f"{town.url}/admin/surveys/upload",
        data={"csrf_token": token},
        files={"definition": ("s.json", as_json(town_survey(2)), "application/json")},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    used = chef.post(
        f"{town.url}/admin/surveys/use",
        follow_redirects=False,
        data={"csrf_token": token, "survey_id": BUNDLED.id, "version": "1"},
    )
    assert used.status_code == 403
    assert state(town) == before


def test_an_upload_without_the_csrf_token_is_refused(town):
    admin = sign_in(town, ADMIN)
    before = state(town)
    response = admin.post(
        f"{town.url}/admin/surveys/upload",
        files={"definition": ("s.json", as_json(town_survey()), "application/json")},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert state(town) == before
