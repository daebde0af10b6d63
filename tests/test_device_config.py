"""The device configuration and enrolment reply: one model, the server writes, devices read."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kiosk.core.agent_desk import AgentDesk
from kiosk.core.visitor import DeskConfig
from qualivilles.bundled import load_default_survey
from qualivilles.device_config import DeviceConfig, EnrolmentReply
from qualivilles.protocol import payload_hash
from tests.fixtures.server import bearer, enrol_code, enrolled_token

SURVEY = load_default_survey().model_dump(mode="json")


@pytest.mark.parametrize("mode", ["kiosk", "tablet"])
def test_a_device_reads_back_exactly_what_the_server_sent(app_client, mode):
    storage = app_client.app.state.storage
    code = enrol_code(storage, "hotel-de-ville", "etat-civil", mode=mode)
    reply = app_client.post("/api/v1/enrol", json={"code": code})
    assert EnrolmentReply.model_validate(reply.json()).model_dump(mode="json") == reply.json()

    response = app_client.get("/api/v1/config", headers=bearer(reply.json()["token"]))
    sent = response.json()
    read = DeviceConfig.model_validate(sent)
    assert read.model_dump(mode="json") == sent
    assert read.versioned().config_version == sent["config_version"]
    body = {key: value for key, value in sent.items() if key != "config_version"}
    assert sent["config_version"] == payload_hash(body)


def test_the_kiosk_and_the_tablet_take_their_part_of_the_same_configuration(app_client):
    token = enrolled_token(app_client, "hotel-de-ville", "etat-civil")
    config = DeviceConfig.model_validate(
        app_client.get("/api/v1/config", headers=bearer(token)).json()
    )
    kiosk, tablet = DeskConfig.from_config(config), AgentDesk.from_config(config)
    assert kiosk.desk_name == tablet.desk_name == "État civil – Hôtel de Ville"
    assert kiosk.settings.opening_hours == tablet.opening_hours is not None
    assert kiosk.survey.id == "qualivilles-accueil"
    assert tablet.reasons[0].slug == config.service.visit_reasons[0].slug


@pytest.mark.parametrize(
    "document",
    [
        {"survey": SURVEY},
        {"survey": SURVEY, "site": None, "service": None, "kiosk": None, "device": None},
        {"survey": SURVEY, "kiosk": {"languages": ["fr"], "from_a_newer_server": 1}},
    ],
)
def test_a_configuration_missing_optional_parts_still_starts_the_kiosk(document):
    desk = DeskConfig.from_config(DeviceConfig.model_validate(document))
    assert desk.settings.inactivity_timeout_seconds == 30
    assert desk.desk_name == ""
    assert desk.published_results is None


def test_the_tablet_needs_no_survey():
    desk = AgentDesk.from_config(DeviceConfig.model_validate({}))
    assert (desk.reasons, desk.timezone, desk.public_base_url) == ((), "Europe/Paris", None)
    with pytest.raises(ValueError, match="no survey"):
        DeskConfig.from_config(DeviceConfig.model_validate({}))


@pytest.mark.parametrize(
    "document",
    [
        {"kiosk": {"opening_hours": {"lundi": [["08:30", "12:00"]]}}},
        {"survey": {**SURVEY, "main_question": "nobody"}},
    ],
)
def test_unreadable_hours_or_survey_make_the_configuration_unusable(document):
    with pytest.raises(ValidationError):
        DeviceConfig.model_validate(document)


def test_settings_the_server_does_not_send_stay_off_the_wire():
    config = DeviceConfig.model_validate(
        {"kiosk": {"still_there_seconds": 20, "staff_pin_hash": None}}
    )
    assert config.kiosk.still_there_seconds == 20
    assert set(config.model_dump(mode="json")["kiosk"]) == {
        "follow_up_seconds",
        "inactivity_timeout_seconds",
        "suspect_interval_seconds",
        "thank_you_seconds",
        "languages",
        "opening_hours",
        "timezone",
    }
