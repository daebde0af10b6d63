"""One answer rule for kiosk, phone and server: what a visitor's device keeps, the server takes."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.core.clock import ManualClock
from kiosk.core.store import KioskStore
from kiosk.core.visitor import DeskConfig, VisitorSession
from qualivilles import flow
from qualivilles.answers import InvalidAnswer, derive, normalise, wire_value
from qualivilles.bundled import load_default_survey
from qualivilles.protocol import AnswerPayload, new_record_id
from qualivilles.survey import QuestionType, SurveyDefinition, parse_definition
from sync_server.phone.answers import Progress, response_record

DEFAULT = load_default_survey()


def _label(text: str) -> dict[str, str]:
    return {"fr": text}


def _choices(*ids: str, levels: bool = False) -> list[dict]:
    return [
        {"id": c, "label": _label(c), **({"level": i} if levels else {})} for i, c in enumerate(ids)
    ]


# Every question type once, choice ids deliberately out of alphabetical order.
SURVEY: SurveyDefinition = parse_definition(
    {
        "id": "every-type",
        "version": 1,
        "languages": ["fr"],
        "title": _label("Tous les types"),
        "thanks": _label("Merci"),
        "main_question": "overall",
        "questions": [
            {
                "id": "overall",
                "type": "smiley",
                "text": _label("Satisfait ?"),
                "choices": [*_choices("bad", "good", levels=True), *_choices("none")],
            },
            {
                "id": "why",
                "type": "multiple_choice",
                "text": _label("Pourquoi ?"),
                "choices": _choices("waiting", "welcome", "answer", "premises"),
            },
            {
                "id": "band",
                "type": "single_choice",
                "text": _label("Attente ?"),
                "choices": _choices("short", "long"),
            },
            {"id": "again", "type": "yes_no", "text": _label("Reviendriez-vous ?")},
            {"id": "score", "type": "scale_0_10", "text": _label("Note ?")},
            {"id": "note", "type": "text", "text": _label("Un mot ?"), "max_length": 40},
        ],
    }
)
CHOICE_IDS = ["bad", "good", "none", "waiting", "welcome", "answer", "premises", "short", "long"]


def _value(question_type: QuestionType) -> st.SearchStrategy[object]:
    """Values a screen or a phone page could hand the flow: valid, blank or wrong."""
    anything = st.one_of(
        st.sampled_from(CHOICE_IDS),
        st.sampled_from(["yes", "no", "", "  ", "oui"]),
        st.integers(-2, 12),
        st.booleans(),
        st.none(),
        st.text(max_size=50),
        st.lists(st.sampled_from([*CHOICE_IDS, "nope"]), max_size=6),
    )
    likely = {
        QuestionType.MULTIPLE_CHOICE: st.lists(
            st.sampled_from(["waiting", "welcome", "answer", "premises"]), max_size=6
        ),
        QuestionType.TEXT: st.text(alphabet=" ab\n@é", max_size=45),
    }.get(question_type, anything)
    return st.one_of(likely, anything)


def _expected_items(state: flow.FlowState) -> dict[str, list[str]]:
    """The items of the kept answers by question, stated without the rule under test."""
    expected = {}
    for question_id, value in state.answers.items():
        question = SURVEY.question(question_id)
        if question.type == QuestionType.MULTIPLE_CHOICE:
            expected[question_id] = [c.id for c in question.choices if c.id in value]
        elif question.type != QuestionType.TEXT:
            expected[question_id] = [str(value)]
    return expected


def _by_question(items: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for question_id, item in items:
        grouped.setdefault(question_id, []).append(item)
    return grouped


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["bad", "good", "none"]), st.data())
def test_what_the_kiosk_and_the_phone_keep_the_server_accepts_with_the_same_items(main, data):
    clock = ManualClock(start=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as tmp, KioskStore(Path(tmp) / "k.db", clock) as store:
        session = VisitorSession(store, clock, DeskConfig(survey=SURVEY))
        state = session.tap_main(main, "fr")
        while not state.finished:
            question = state.question
            value = data.draw(_value(question.type), label=question.id)
            try:
                state = session.answer(question.id, value)
            except InvalidAnswer:
                state = session.skip(question.id)
        [record] = store.pending_records()
    kiosk_facts = derive(AnswerPayload.model_validate(record.payload), SURVEY)
    assert _by_question(kiosk_facts.items) == _expected_items(state)
    assert kiosk_facts.main_choice == main
    typed = state.answers.get("note")
    assert [t.text for t in kiosk_facts.texts] == ([typed] if typed else [])

    phone = response_record(Progress(state, new_record_id(), False), datetime.now(UTC))
    phone_facts = derive(AnswerPayload.model_validate(phone.payload), SURVEY)
    assert _by_question(phone_facts.items) == _by_question(kiosk_facts.items)
    assert phone_facts.texts == kiosk_facts.texts


@given(st.sampled_from(SURVEY.questions), st.data())
def test_a_normalised_value_is_accepted_again_unchanged_on_the_wire(question, data):
    value = data.draw(_value(question.type))
    try:
        kept = normalise(question, value)
    except InvalidAnswer:
        return
    if kept is None:
        return
    assert normalise(question, wire_value(kept)) == kept
    payload = AnswerPayload(
        survey_id=SURVEY.id,
        survey_version=1,
        channel="kiosk",
        language="fr",
        status="complete",
        answers={question.id: wire_value(kept)},
    )
    derive(payload, SURVEY)  # no InvalidAnswer


def _facts(answers: dict, comment: str | None = None):
    payload = AnswerPayload(
        survey_id=DEFAULT.id,
        survey_version=DEFAULT.version,
        channel="kiosk",
        language="fr",
        status="complete",
        answers={"overall": "dissatisfied", **answers},
        comment=comment,
    )
    return derive(payload, DEFAULT)


def test_a_multiple_choice_is_kept_in_the_surveys_order_on_the_server_too():
    # Sorted, these would be premises then waiting; the survey asks waiting first.
    facts = _facts({"why_unhappy": ["premises", "waiting", "premises"]})
    assert facts.items[1:] == [("why_unhappy", "waiting"), ("why_unhappy", "premises")]


def test_a_text_is_trimmed_before_it_is_measured_and_kept():
    question = SURVEY.question("note")
    padded = "  " + "x" * question.max_length + "  "
    assert normalise(question, padded) == "x" * question.max_length
    payload = AnswerPayload(
        survey_id=SURVEY.id,
        survey_version=1,
        channel="phone",
        language="fr",
        status="complete",
        answers={"overall": "good", "note": padded},
    )
    assert [t.text for t in derive(payload, SURVEY).texts] == ["x" * question.max_length]


@pytest.mark.parametrize(
    "answers",
    [
        {"why_unhappy": []},  # nothing picked
        {"why_unhappy": "waiting"},  # a lone choice id
        {"why_unhappy": ["waiting", "waiting"]},
        {"comment": "   "},  # nothing typed
    ],
)
def test_answers_stored_before_the_rules_were_shared_are_still_read(answers):
    facts = _facts(answers)
    assert facts.main_level == 1
    assert facts.texts == []


@pytest.mark.parametrize(
    ("answers", "path"),
    [
        ({"overall": "delighted"}, "payload.answers.overall"),
        ({"why_unhappy": ["waiting", "nope"]}, "payload.answers.why_unhappy"),
        ({"ghost": "x"}, "payload.answers.ghost"),
        ({"comment": "x" * 501}, "payload.answers.comment"),
    ],
)
def test_the_server_names_the_field_it_refuses(answers, path):
    with pytest.raises(InvalidAnswer) as caught:
        _facts(answers)
    assert caught.value.path == path
