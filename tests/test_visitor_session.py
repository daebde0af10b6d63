"""VisitorSession on a real store: durable taps, suspect presses, config between visitors."""

import json

import pytest

from kiosk.core.clock import ManualClock
from kiosk.core.store import KioskStore
from kiosk.core.visitor import DeskConfig, KioskSettings, VisitorSession
from qualivilles.bundled import load_default_survey
from qualivilles.flow import NotAsking

SURVEY = load_default_survey()


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def store(tmp_path, clock):
    with KioskStore(tmp_path / "kiosk.db", clock) as opened:
        yield opened


def _desk(version: int = SURVEY.version, **settings) -> DeskConfig:
    return DeskConfig(
        survey=SURVEY.model_copy(update={"version": version}), settings=KioskSettings(**settings)
    )


def _rows(store):
    return [
        dict(r, answers=json.loads(r["answers"]))
        for r in store.db.query("select * from responses order by id")
    ]


def test_the_main_tap_is_in_sqlite_when_tap_main_returns(tmp_path, store, clock):
    session = VisitorSession(store, clock, _desk())
    session.tap_main("very_satisfied", "fr")
    with KioskStore(tmp_path / "kiosk.db", clock) as other_connection:
        [row] = other_connection.db.query("select answers, status from responses")
    assert json.loads(row["answers"]) == {"overall": "very_satisfied"}
    assert row["status"] == "open"


def test_presses_closer_than_the_interval_are_flagged_suspect(store, clock):
    session = VisitorSession(store, clock, _desk(suspect_interval_seconds=5))
    session.tap_main("very_satisfied", "fr")
    clock.advance(2)
    session.tap_main("very_satisfied", "fr")  # the first visitor is closed as partial
    clock.advance(6)
    session.tap_main("satisfied", "fr")
    assert [(r["suspect"], r["status"]) for r in _rows(store)] == [
        (0, "partial"),
        (1, "partial"),
        (0, "open"),
    ]


def test_a_configuration_offered_mid_visit_applies_when_the_visitor_is_done(store, clock):
    session = VisitorSession(store, clock, _desk())
    assert session.offer_config(_desk(version=SURVEY.version + 1)) is True  # nobody answering
    assert session.config.survey.version == SURVEY.version + 1
    session.tap_main("satisfied", "fr")
    assert session.offer_config(_desk(version=SURVEY.version + 2)) is False
    assert session.config.survey.version == SURVEY.version + 1  # not in the middle of a visit
    session.finish()
    assert session.config.survey.version == SURVEY.version + 2
    assert [r["survey_version"] for r in _rows(store)] == [SURVEY.version + 1]


def test_a_timed_out_visitor_also_lets_the_new_configuration_in(store, clock):
    session = VisitorSession(store, clock, _desk())
    session.tap_main("satisfied", "fr")
    session.offer_config(_desk(version=SURVEY.version + 1))
    session.time_out()
    assert session.config.survey.version == SURVEY.version + 1
    assert _rows(store)[0]["status"] == "partial"


def test_an_invalid_answer_writes_nothing(store, clock):
    session = VisitorSession(store, clock, _desk())
    session.tap_main("satisfied", "fr")
    with pytest.raises(ValueError, match="not a choice"):
        session.answer("welcome", "ecstatic")
    assert _rows(store)[0]["answers"] == {"overall": "satisfied"}


def test_answering_without_a_visitor_is_refused(store, clock):
    with pytest.raises(NotAsking):
        VisitorSession(store, clock, _desk()).answer("welcome", "satisfied")


def test_the_kiosk_asks_only_its_short_survey(store, clock):
    session = VisitorSession(store, clock, _desk())
    session.tap_main("very_satisfied", "fr")
    assert session.state.current == "welcome"
    session.answer("welcome", "satisfied")
    assert session.state.finished
    [row] = _rows(store)
    assert (row["status"], row["answers"]) == (
        "complete",
        {"overall": "very_satisfied", "welcome": "satisfied"},
    )


def test_going_back_keeps_the_answer_until_it_is_replaced_in_the_store(store, clock):
    session = VisitorSession(store, clock, _desk())
    session.tap_main("dissatisfied", "fr")
    session.answer("why_unhappy", ["waiting"])
    session.back()
    assert session.state.current == "why_unhappy"
    assert _rows(store)[0]["answers"]["why_unhappy"] == ["waiting"]
    session.answer("why_unhappy", ["premises", "answer"])
    assert _rows(store)[0]["answers"]["why_unhappy"] == ["answer", "premises"]


def test_a_happier_main_answer_after_going_back_withdraws_what_went_wrong(store, clock):
    session = VisitorSession(store, clock, _desk())
    session.tap_main("dissatisfied", "fr")
    session.answer("why_unhappy", ["waiting"])
    session.back()
    session.back()
    session.answer("overall", "satisfied")
    assert _rows(store)[0]["answers"] == {"overall": "satisfied"}
    assert [r["suspect"] for r in _rows(store)] == [0]  # still one response, one press
