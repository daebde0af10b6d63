"""`GET /api/v1/config`: settings and survey for a device, content-hashed, with last month."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from qualivilles.bundled import load_default_survey
from qualivilles.device_config import DeviceConfig
from sync_server.indicators.periods import last_complete_month, month_bounds
from sync_server.settings import Settings
from sync_server.storage import Source, devices, uploads
from tests.fixtures.server import (
    SERVICE,
    SITE,
    TOWN,
    answer_payload,
    bearer,
    enrolled_token,
    make_record,
    server_settings_for,
    set_target,
)
from tests.tools.waiting_records import figures_behind, log_unprojected


@pytest.fixture
def server_settings(tmp_path) -> Settings:
    """The server's own projection loop off: tests here see records wait for the projection."""
    return server_settings_for(tmp_path, projection_every=0)


def last_month_middle() -> datetime:
    start, end = month_bounds(
        last_complete_month(datetime.now(UTC), ZoneInfo("Europe/Paris")), ZoneInfo("Europe/Paris")
    )
    return start + (end - start) / 2


def add_answers(storage, choices: list[str], at: datetime, **fields) -> None:
    records = [
        make_record(answer_payload(choice, **fields), at=at + timedelta(minutes=i))
        for i, choice in enumerate(choices)
    ]
    uploads.store_batch(storage, records, Source(site=SITE, service=SERVICE, channel="kiosk"))


def test_config_describes_the_device_desk_and_survey(app_client):
    token = enrolled_token(app_client)
    response = app_client.get("/api/v1/config", headers=bearer(token))
    assert response.status_code == 200
    config = response.json()
    assert response.headers["etag"] == f'"{config["config_version"]}"'
    with app_client.app.state.storage.read() as connection:
        device = devices.by_token(connection, token)
    assert config["device"] == {"id": device.id, "name": device.name, "mode": "kiosk"}
    assert config["site"] == {"slug": SITE, "name": "Centre administratif municipal"}
    assert config["service"] == {
        "slug": SERVICE,
        "name": "IRIS – guichet unique",
        "wait_threshold_minutes": 10,
        "visit_reasons": next(s for s in TOWN["services"] if s["slug"] == SERVICE)["visit_reasons"],
    }
    assert config["survey"]["id"] == load_default_survey().id
    assert config["survey"]["version"] == load_default_survey().version
    assert config["phone_survey_url"] == f"http://127.0.0.1:8000/s/{SITE}/{SERVICE}"
    assert config["kiosk"]["languages"] == load_default_survey().languages
    assert config["kiosk"]["inactivity_timeout_seconds"] > 0
    assert config["published_results"] is None


def test_an_unchanged_config_answers_304(app_client):
    token = enrolled_token(app_client)
    etag = app_client.get("/api/v1/config", headers=bearer(token)).headers["etag"]
    response = app_client.get("/api/v1/config", headers={**bearer(token), "If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    stale = app_client.get("/api/v1/config", headers={**bearer(token), "If-None-Match": '"old"'})
    assert stale.status_code == 200


def test_an_unchanged_config_is_not_built_again(app_client):
    # A kiosk asks after every batch, while that batch waits for the projection: an unchanged
    # configuration answers 304 without reading the figures, which would first catch them up.
    storage = app_client.app.state.storage
    token = enrolled_token(app_client)
    etag = app_client.get("/api/v1/config", headers=bearer(token)).headers["etag"]
    log_unprojected(storage)
    assert figures_behind(storage)
    response = app_client.get("/api/v1/config", headers={**bearer(token), "If-None-Match": etag})
    assert response.status_code == 304
    assert figures_behind(storage)
    again = app_client.get("/api/v1/config", headers=bearer(token))
    assert (again.status_code, again.headers["etag"]) == (200, etag)


def test_a_new_target_changes_the_config_a_device_holds(app_client):
    storage = app_client.app.state.storage
    token = enrolled_token(app_client)
    add_answers(storage, ["satisfied"] * 5, last_month_middle())
    first = app_client.get("/api/v1/config", headers=bearer(token))
    assert first.json()["published_results"]["target"] == 90.0
    set_target(storage, "satisfaction_rate", SERVICE, 95, date(2020, 1, 1))
    second = app_client.get(
        "/api/v1/config", headers={**bearer(token), "If-None-Match": first.headers["etag"]}
    )
    assert second.status_code == 200
    assert second.json()["published_results"]["target"] == 95.0


def test_published_results_need_the_minimum_number_of_answers(app_client):
    storage = app_client.app.state.storage
    token = enrolled_token(app_client)
    at = last_month_middle()
    add_answers(storage, ["satisfied", "very_satisfied", "dissatisfied", "no_opinion"], at)
    first = app_client.get("/api/v1/config", headers=bearer(token))
    assert first.json()["published_results"] is None  # 3 expressed answers < 5

    add_answers(storage, ["very_satisfied", "satisfied"], at + timedelta(hours=1))
    second = app_client.get(
        "/api/v1/config", headers={**bearer(token), "If-None-Match": first.headers["etag"]}
    )
    assert second.status_code == 200  # the result changed the content, hence the version
    results = second.json()["published_results"]
    month = last_complete_month(datetime.now(UTC), ZoneInfo("Europe/Paris"))
    assert results == {
        "period": f"{month:%Y-%m}",
        "satisfaction_rate": 80.0,  # 4 satisfied of 5 expressed; "no opinion" left out
        "answers": 5,
        "target": 90.0,
    }


def test_published_results_give_the_target_the_dashboard_applies(app_client):
    # A service's own target (set on the targets page) is the one its kiosk shows too.
    storage = app_client.app.state.storage
    token = enrolled_token(app_client)
    add_answers(storage, ["satisfied"] * 5, last_month_middle())
    set_target(storage, "satisfaction_rate", SERVICE, 95, date(2020, 1, 1))
    results = app_client.get("/api/v1/config", headers=bearer(token)).json()["published_results"]
    assert (results["satisfaction_rate"], results["target"]) == (100.0, 95.0)


def test_suspect_presses_do_not_count_in_published_results(app_client):
    storage = app_client.app.state.storage
    token = enrolled_token(app_client)
    at = last_month_middle()
    add_answers(storage, ["satisfied"] * 4, at)
    add_answers(storage, ["satisfied"] * 3, at, suspect=True)
    assert (
        app_client.get("/api/v1/config", headers=bearer(token)).json()["published_results"] is None
    )


def test_config_needs_a_device_token(app_client):
    response = app_client.get("/api/v1/config")
    assert (response.status_code, response.json()["code"]) == (401, "missing_token")


def test_openapi_describes_the_device_api(app_client):
    schema = app_client.get("/openapi.json").json()
    for path in ("/api/v1/enrol", "/api/v1/sync", "/api/v1/config", "/api/v1/indicators"):
        assert path in schema["paths"], path
    assert "SyncRequest" in schema["components"]["schemas"]
    assert "SyncResponse" in schema["components"]["schemas"]


def test_each_desk_gets_its_own_opening_hours_from_the_town_file(app_client):
    town_hours = TOWN["opening_hours"]
    library = next(d for d in TOWN["desks"] if d["service"] == "mediatheques")

    def kiosk_config(site: str, service: str) -> dict:
        token = enrolled_token(app_client, site, service)
        return app_client.get("/api/v1/config", headers=bearer(token)).json()["kiosk"]

    civil = kiosk_config("hotel-de-ville", "etat-civil")
    assert civil["opening_hours"] == town_hours  # the town's default
    assert civil["timezone"] == "Europe/Paris"
    media = kiosk_config(library["site"], "mediatheques")
    assert media["opening_hours"] == library["opening_hours"] != town_hours
    # The demo kiosk's desk says {}: always open, so the demo works at any hour.
    assert kiosk_config(SITE, SERVICE)["opening_hours"] is None


def test_the_agent_tablet_gets_its_services_reasons_for_visit(app_client):
    from kiosk.core.agent_desk import AgentDesk

    civil = next(s for s in TOWN["services"] if s["slug"] == "etat-civil")
    token = enrolled_token(app_client, "hotel-de-ville", "etat-civil")
    config = app_client.get("/api/v1/config", headers=bearer(token)).json()
    assert config["service"]["visit_reasons"] == civil["visit_reasons"]
    desk = AgentDesk.from_config(DeviceConfig.model_validate(config))
    assert [r.slug for r in desk.reasons] == [r["slug"] for r in civil["visit_reasons"]]
    assert desk.reason_label("passeport-cni") == "Passeport / CNI"
