"""The demo data generator: reproducible, plausible and valid per the wire protocol."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from qualivilles.bundled import DEMO_TOWN_FILE, load_default_survey
from qualivilles.protocol import (
    PAYLOAD_MODELS,
    AnswerPayload,
    RecordIn,
    RecordKind,
    VisitEvent,
    VisitEventPayload,
    payload_hash,
)
from sync_server.demo.command import prepare
from sync_server.demo.data import DAYS_BACK, generate
from sync_server.settings import Settings
from sync_server.storage import devices, users
from sync_server.storage import health as fleet_health

NOW = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(scope="module")
def town() -> dict:
    return json.loads(DEMO_TOWN_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def data(town):
    return generate(town, load_default_survey(), NOW, seed=7)


def test_same_seed_gives_the_same_records(town, data):
    again = generate(town, load_default_survey(), NOW, seed=7)
    assert [r.model_dump() for r in again.records] == [r.model_dump() for r in data.records]


def test_another_seed_gives_other_records(town, data):
    other = generate(town, load_default_survey(), NOW, seed=8)
    assert {r.id for r in other.records}.isdisjoint({r.id for r in data.records})


def test_volumes_are_a_few_hundred(data):
    answers = data.count(RecordKind.ANSWER)
    visits = {r.payload["visit_id"] for r in data.records if r.kind == RecordKind.VISIT_EVENT}
    assert 300 <= answers <= 1500
    assert 200 <= len(visits) <= 1200


def test_every_desk_of_the_town_has_answers(town, data):
    desks = {(b.site, b.service) for b in data.batches if b.source == "kiosk"}
    assert desks == {(d["site"], d["service"]) for d in town["desks"]}


def test_times_are_weekday_opening_hours_within_the_last_three_months(data):
    earliest = NOW - timedelta(days=DAYS_BACK + 1)
    for record in data.records:
        assert earliest <= record.device_time < NOW
        local = record.device_time.astimezone(PARIS)
        assert local.weekday() < 5
        # A visit's closing event may come after 17:30 when the wait ran past closing time.
        closes = 19 if record.kind == RecordKind.VISIT_EVENT else 17.5
        assert 8.5 <= local.hour + local.minute / 60 < closes, local


def test_every_record_is_valid_per_protocol(data):
    survey = load_default_survey()
    for record in data.records:
        wire = json.loads(record.model_dump_json())
        parsed = RecordIn.model_validate(wire)
        payload = PAYLOAD_MODELS[parsed.kind].model_validate(parsed.payload)
        assert parsed.payload_hash == payload_hash(wire["payload"])
        assert parsed.id.version == 7
        # The id's time prefix is the capture time, as the kiosk's ids are.
        assert parsed.id.int >> 80 == int(parsed.device_time.timestamp() * 1000)
        if isinstance(payload, AnswerPayload):
            assert payload.survey_id == survey.id
            for question_id, value in payload.answers.items():
                known = {c.id for c in survey.question(question_id).choices}
                assert set(value if isinstance(value, list) else [value]) <= known


def test_answers_are_mostly_satisfied_with_some_unhappy_and_comments(data):
    answers = [r.payload for r in data.records if r.kind == RecordKind.ANSWER]
    overall = Counter(a["answers"]["overall"] for a in answers)
    expressed = sum(n for choice, n in overall.items() if choice != "no_opinion")
    happy = (overall["satisfied"] + overall["very_satisfied"]) / expressed
    assert 0.8 < happy < 0.97
    assert overall["very_dissatisfied"] + overall["dissatisfied"] >= 10
    assert sum(1 for a in answers if a.get("comment")) >= 10
    assert {a["channel"] for a in answers} == {"kiosk", "phone"}


def test_visits_close_with_a_wait_and_some_walk_outs(data):
    closings = [
        VisitEventPayload.model_validate(r.payload)
        for r in data.records
        if r.kind == RecordKind.VISIT_EVENT and r.payload["event"] != VisitEvent.ARRIVED
    ]
    events = Counter(c.event for c in closings)
    assert events[VisitEvent.WALKED_OUT] >= 3
    assert events[VisitEvent.TAKEN_IN_CHARGE] > 10 * events[VisitEvent.WALKED_OUT]
    assert all(c.wait_seconds is not None and c.wait_seconds >= 0 for c in closings)


def test_each_closing_event_follows_its_arrival(data):
    arrivals = {
        r.payload["visit_id"]: r.device_time
        for r in data.records
        if r.kind == RecordKind.VISIT_EVENT and r.payload["event"] == "arrived"
    }
    for record in data.records:
        if record.kind == RecordKind.VISIT_EVENT and record.payload["event"] != "arrived":
            arrived = arrivals[record.payload["visit_id"]]
            waited = (record.device_time - arrived).total_seconds()
            assert waited == pytest.approx(record.payload["wait_seconds"], abs=0.1)


# The demo command on top of the generator ------------------------------------------------------


def test_prepare_loads_everything_through_the_real_storage(tmp_path, town):
    setup = prepare(tmp_path / "demo", Settings(), now=NOW, seed=7, town=town)
    try:
        data = generate(town, load_default_survey(), NOW, seed=7)
        assert setup.answers == data.count(RecordKind.ANSWER)
        assert setup.visit_events == data.count(RecordKind.VISIT_EVENT)
        user = town["demo"]["user"]
        with setup.storage.read() as connection:
            assert users.authenticate(connection, user["username"], user["password"]) is not None
        with setup.storage.write() as connection:
            enrolment = devices.enrol(connection, setup.kiosk_code)
        assert (enrolment.device.site, enrolment.device.service) == ("centre-administratif", "iris")
        assert setup.settings.database_url.endswith("/demo/server.db")
        # The fleet looks alive, as devices heartbeat day and night, but for one gone quiet.
        with setup.storage.read() as connection:
            fleet = fleet_health.fleet(connection, NOW, timedelta(hours=24))
        enrolled = [health for health in fleet if health.device.enrolled_at]
        assert len(enrolled) > 5
        assert [health.silent for health in enrolled].count(True) == 1
    finally:
        setup.storage.close()


def test_demo_command_serves_and_prints_how_to_start_the_kiosk(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    command = [sys.executable, "-m", "sync_server.cli", "demo", "--data-dir", str(tmp_path),
               "--port", str(port)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    lines = []
    try:
        for line in process.stdout:  # the command prints its banner once it is serving
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        output = "".join(lines)
        assert f"Dashboard:     http://127.0.0.1:{port}/" in output
        assert "Demo login:    qualite / demo-qualite" in output
        assert "No display found" in output
        assert "-m kiosk.cli --data-dir" in output
        assert "--enrol-code" in output
        login = requests.get(f"http://127.0.0.1:{port}/login", timeout=10)
        assert login.status_code == 200
        survey = requests.get(f"http://127.0.0.1:{port}/s/centre-administratif/iris", timeout=10)
        assert survey.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
