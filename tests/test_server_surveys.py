"""Survey versions and configuration are content-hashed; a published version never changes."""

from __future__ import annotations

import hashlib
import io
import json

import pytest

from qualivilles.bundled import bundled_surveys, load_default_survey
from qualivilles.protocol import canonical_json
from qualivilles.survey import SurveyDefinition
from sync_server import cli
from sync_server.storage import Storage, SurveyVersionChanged, surveys
from sync_server.storage.surveys import content_hash
from tests.fixtures.server import answer_payload, bearer, enrolled_token, make_record, sync_body
from tests.tools.server_reads import stored_rows

CURRENT = load_default_survey()  # the newest bundled version; older ones are published too
NEXT = CURRENT.version + 1


def survey_next():
    title = {**CURRENT.title, "fr": CURRENT.title["fr"] + " (2026)"}
    return CURRENT.model_copy(update={"version": NEXT, "title": title})


def bundled_rows() -> list[tuple]:
    return [(s.id, s.version, content_hash(s)) for s in bundled_surveys()]


def survey_rows(client) -> list[tuple]:
    with client.app.state.storage.read() as connection:
        published = surveys.published(connection)
    return sorted(((s.id, s.version, s.content_hash) for s in published), key=lambda r: r[1])


def publish(storage: Storage, survey: SurveyDefinition) -> bool:
    with storage.write() as connection:
        return surveys.publish(connection, survey)


def test_a_published_version_cannot_change_in_place(app_client):
    storage = app_client.app.state.storage
    changed = CURRENT.model_copy(update={"title": {**CURRENT.title, "fr": "Autre titre"}})
    with pytest.raises(
        SurveyVersionChanged, match=rf"qualivilles-accueil v{CURRENT.version} .*new version"
    ):
        publish(storage, changed)
    assert survey_rows(app_client) == bundled_rows()
    with storage.read() as connection:
        assert surveys.get(connection, "qualivilles-accueil", CURRENT.version) == CURRENT


def test_publishing_the_same_content_again_changes_nothing(app_client):
    storage = app_client.app.state.storage
    assert publish(storage, load_default_survey()) is False
    assert survey_rows(app_client) == bundled_rows()


def test_a_new_version_is_a_new_row_and_becomes_current(app_client):
    storage = app_client.app.state.storage
    assert publish(storage, survey_next()) is True
    rows = survey_rows(app_client)
    assert rows[:-1] == bundled_rows()
    assert rows[-1][:2] == ("qualivilles-accueil", NEXT)
    assert rows[-1][2] != rows[-2][2]
    with storage.read() as connection:
        assert surveys.current(connection).version == NEXT


def test_the_config_etag_is_the_content_hash_and_follows_the_survey(app_client):
    token = enrolled_token(app_client)
    first = app_client.get("/api/v1/config", headers=bearer(token))
    document = first.json()
    version = document.pop("config_version")
    assert version == hashlib.sha256(canonical_json(document).encode()).hexdigest()
    assert first.headers["etag"] == f'"{version}"'

    publish(app_client.app.state.storage, survey_next())
    second = app_client.get(
        "/api/v1/config", headers={**bearer(token), "If-None-Match": first.headers["etag"]}
    )
    assert second.status_code == 200
    assert second.json()["survey"]["version"] == NEXT
    assert second.headers["etag"] != first.headers["etag"]


def test_an_answer_to_a_retired_but_known_version_is_accepted(app_client):
    token = enrolled_token(app_client)
    publish(app_client.app.state.storage, survey_next())
    old = make_record(answer_payload(survey_version=1))  # retired long ago, still known
    new = make_record(answer_payload(survey_version=NEXT))
    never = make_record(answer_payload(survey_version=NEXT + 1))
    body = sync_body(old, new, never)
    response = app_client.post("/api/v1/sync", json=body, headers=bearer(token))
    acks = [(a["status"], a["code"]) for a in response.json()["acknowledged"]]
    assert acks == [("stored", None), ("stored", None), ("rejected", "unknown_survey")]
    storage = app_client.app.state.storage
    versions = stored_rows(storage, "answers", "survey_version", order_by="survey_version")
    assert [row[0] for row in versions] == [1, NEXT]


def test_publish_survey_command(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    path = tmp_path / "next.json"
    path.write_text(json.dumps(survey_next().model_dump(mode="json")), encoding="utf-8")
    out = io.StringIO()
    assert cli.main(["--database-url", url, "publish-survey", str(path)], out=out) == 0
    assert cli.main(["--database-url", url, "publish-survey", str(path)], out=out) == 0
    assert out.getvalue() == (
        f"published qualivilles-accueil v{NEXT}\n"
        f"already published, unchanged: qualivilles-accueil v{NEXT}\n"
    )
    changed = survey_next().model_copy(update={"languages": ["fr"]})
    path.write_text(json.dumps(changed.model_dump(mode="json")), encoding="utf-8")
    assert cli.main(["--database-url", url, "publish-survey", str(path)], out=out) == 1
