"""The demo data generator: reproducible, plausible and valid per the wire protocol."""

from __future__ import annotations

import hashlib
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
from hypothesis import given
from hypothesis import strategies as st

from qualivilles import opening_hours
from qualivilles.bundled import DEMO_TOWN_FILE, load_default_survey
from qualivilles.protocol import (
    PAYLOAD_MODELS,
    AnswerPayload,
    Channel,
    RecordIn,
    RecordKind,
    VisitEvent,
    VisitEventPayload,
    payload_hash,
)
from sync_server.comments.reading import pending
from sync_server.demo.command import prepare
from sync_server.demo.data import DAYS_BACK, generate, satisfaction_after_wait
from sync_server.indicators import public_holidays
from sync_server.indicators.periods import containing
from sync_server.settings import Settings
from sync_server.storage import devices, users, visit_links
from sync_server.storage import health as fleet_health
from sync_server.storage import triage as triage_storage
from sync_server.web.figures import desk_figures
from sync_server.web.pages.service_page import wait_sections
from tests.tools.demo_counts import linked_answers

NOW = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
MONDAY, SATURDAY, SUNDAY = 0, 5, 6
SATISFIED = ("satisfied", "very_satisfied")


@pytest.fixture(scope="module")
def town() -> dict:
    return json.loads(DEMO_TOWN_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def data(town):
    return generate(town, load_default_survey(), NOW, seed=7)


@pytest.fixture(scope="module")
def demo(tmp_path_factory, town):
    """The demo command's database for the same seed and "now" as `data`."""
    folder = tmp_path_factory.mktemp("run") / "demo"
    setup = prepare(folder, Settings(), now=NOW, seed=7, town=town)
    yield setup
    setup.storage.close()


def hours_of(town: dict, site: str, service: str) -> dict:
    """A desk's hours as the town file gives them; a desk set to be always open (the demo
    kiosk's, so the demo works at any hour) is held to the town's hours."""
    desk = next(d for d in town["desks"] if (d["site"], d["service"]) == (site, service))
    return desk.get("opening_hours", town["opening_hours"]) or town["opening_hours"]


def digest(records: list[RecordIn]) -> str:
    return hashlib.sha256("\n".join(r.model_dump_json() for r in records).encode()).hexdigest()


def test_same_seed_gives_the_same_records(town, data):
    again = generate(town, load_default_survey(), NOW, seed=7)
    assert [r.model_dump() for r in again.records] == [r.model_dump() for r in data.records]
    assert any(r.kind == RecordKind.ANSWER and "visit_id" in r.payload for r in again.records)


def test_same_seed_gives_the_same_records_in_another_process(data):
    # Another hash seed: nothing may depend on the order of a set or on `hash()`.
    script = (
        "import hashlib, json, sys\n"
        "from datetime import datetime\n"
        "from qualivilles.bundled import DEMO_TOWN_FILE, load_default_survey\n"
        "from sync_server.demo.data import generate\n"
        "town = json.loads(DEMO_TOWN_FILE.read_text(encoding='utf-8'))\n"
        "data = generate(town, load_default_survey(), datetime.fromisoformat(sys.argv[1]), 7)\n"
        "text = '\\n'.join(r.model_dump_json() for r in data.records)\n"
        "print(hashlib.sha256(text.encode()).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    command = [sys.executable, "-c", script, NOW.isoformat()]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == digest(data.records)


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


def test_no_record_outside_its_desk_opening_hours_nor_on_a_public_holiday(town, data):
    holidays = public_holidays.calendar("metropole")
    earliest = NOW - timedelta(days=DAYS_BACK + 1)
    for batch in data.batches:
        hours = hours_of(town, batch.site, batch.service)
        for record in batch.records:
            local = record.device_time.astimezone(PARIS)
            where = (batch.site, batch.service, batch.source, local)
            assert earliest <= record.device_time < NOW, where
            assert opening_hours.is_open(hours, local), where
            assert local.date() not in holidays, where


def test_mediatheques_are_open_on_saturday_and_closed_on_monday(town, data):
    libraries = [(d["site"], d["service"]) for d in town["desks"] if d["service"] == "mediatheques"]
    assert libraries
    for desk in libraries:
        weekdays = Counter(
            record.device_time.astimezone(PARIS).weekday()
            for batch in data.batches
            if (batch.site, batch.service) == desk
            for record in batch.records
        )
        assert weekdays[SATURDAY] > 0, desk
        assert weekdays[MONDAY] == weekdays[SUNDAY] == 0, desk


def test_kiosk_answers_hold_only_the_kiosk_questions_and_phone_answers_are_complete(data):
    survey = load_default_survey()
    kiosk_questions = {q.id for q in survey.kiosk_questions}
    for record in data.records:
        if record.kind != RecordKind.ANSWER:
            continue
        payload = record.payload
        if payload["channel"] == Channel.KIOSK:
            assert set(payload["answers"]) <= kiosk_questions
            assert "comment" not in payload  # the comment is asked on the phone only
        else:
            assert payload["status"] == "complete"  # an unfinished phone survey is never sent


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


def test_a_share_of_served_visits_is_answered_once_through_the_visit_link(data):
    served = {}
    for batch in data.batches:
        for record in batch.records:
            payload = record.payload
            if record.kind == RecordKind.VISIT_EVENT and payload["event"] == "taken_in_charge":
                served[payload["visit_id"]] = ((batch.site, batch.service), record.device_time)
    answered = []
    for batch in data.batches:
        for record in batch.records:
            visit_id = record.payload.get("visit_id")
            if record.kind != RecordKind.ANSWER or visit_id is None:
                continue
            desk, taken_in_charge = served[visit_id]
            assert batch.source == record.payload["channel"] == "phone"
            assert (batch.site, batch.service) == desk
            assert record.device_time > taken_in_charge
            answered.append(visit_id)
    assert len(answered) == len(set(answered))  # one answer per visit
    assert 0.15 <= len(answered) / len(served) <= 0.4


def test_answers_after_a_long_wait_are_less_satisfied(town, data):
    thresholds = {s["slug"]: s["wait_threshold_minutes"] * 60 for s in town["services"]}
    short, long = [], []
    for (_site, service), wait, choice in linked_answers(data):
        if choice == "no_opinion":
            continue
        if wait <= thresholds[service] / 2:
            short.append(choice in SATISFIED)
        elif wait >= thresholds[service]:
            long.append(choice in SATISFIED)
    assert len(long) >= 10
    assert sum(long) / len(long) < sum(short) / len(short)


@given(
    satisfaction=st.floats(0.5, 1.0),
    threshold=st.integers(1, 60),
    waits=st.lists(st.floats(0, 180), min_size=2, max_size=2),
)
def test_satisfaction_falls_only_once_half_the_threshold_is_waited(satisfaction, threshold, waits):
    shorter, longer = sorted(waits)
    after_short = satisfaction_after_wait(satisfaction, shorter, threshold)
    after_long = satisfaction_after_wait(satisfaction, longer, threshold)
    assert 0.4 <= after_long <= after_short <= satisfaction
    if longer <= threshold / 2:
        assert after_long == satisfaction


def test_at_demo_size_the_service_page_shows_satisfaction_by_measured_wait(demo):
    month = containing("month", NOW.astimezone(PARIS).date()).previous()
    figures = desk_figures(demo.storage, demo.settings, month, services=None)
    sections = wait_sections(figures, "fr", demo.settings.min_answers)
    measured = [section for section in sections if section["desk"].measured]
    assert measured
    for section in measured:  # every desk with an agent tablet
        assert section["desk"].linked_answers > 0, section["desk"].site
        assert section["bands"]["svg"] is not None
    # The demo kiosk's desk, the busiest, publishes a rate in more than one band.
    kiosk = demo.town["demo"]["kiosk"]
    desks = {(s["desk"].site, s["desk"].service): s["desk"] for s in sections}
    busiest = desks[(kiosk["site"], kiosk["service"])]
    assert len([band for band in busiest.bands if not band.rate.hidden]) >= 2


def test_the_demo_holds_comments_triage_holds_for_the_quality_manager(town, demo):
    with demo.storage.read() as connection:
        names = triage_storage.staff_names(connection)
        waiting = pending(connection)
    assert names == {
        service: sorted(listed) for service, listed in town["demo"]["staff_names"].items()
    }
    assert waiting.count >= 3
    assert waiting.urgent >= 1


# The demo command on top of the generator ------------------------------------------------------


def test_prepare_loads_everything_through_the_real_storage(town, data, demo):
    assert demo.answers == data.count(RecordKind.ANSWER)
    assert demo.visit_events == data.count(RecordKind.VISIT_EVENT)
    user = town["demo"]["user"]
    with demo.storage.read() as connection:
        assert users.authenticate(connection, user["username"], user["password"]) is not None
        # Each visit answered through its link has spent it, as the phone survey does.
        answers = [r.payload for r in data.records if r.kind == RecordKind.ANSWER]
        linked = [answer["visit_id"] for answer in answers if "visit_id" in answer]
        assert linked
        assert all(visit_links.is_used(connection, visit_id) for visit_id in linked)
    assert demo.settings.database_url.endswith("/demo/server.db")
    # The fleet looks alive, as devices heartbeat day and night, but for one gone quiet.
    with demo.storage.read() as connection:
        fleet = fleet_health.fleet(connection, NOW, timedelta(hours=24))
    enrolled = [health for health in fleet if health.device.enrolled_at]
    assert len(enrolled) > 5
    assert [health.silent for health in enrolled].count(True) == 1
    with demo.storage.write() as connection:
        enrolment = devices.enrol(connection, demo.kiosk_code)
    assert (enrolment.device.site, enrolment.device.service) == ("centre-administratif", "iris")


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
        assert "audit.durand / demo-audit (internal auditor)" in output
        assert "Quality cycle: 11 actions, 6 internal audits, 3 monthly meetings" in output
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
