"""The survey flow state machine, on the real default survey definition."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualivilles import flow
from qualivilles.answers import normalise
from qualivilles.bundled import load_default_survey
from qualivilles.flow import FlowStatus, InvalidAnswer, NotAsking
from qualivilles.protocol import Channel
from qualivilles.survey import QuestionType

SURVEY = load_default_survey()


def test_a_new_visitor_is_asked_the_main_question_first():
    state = flow.start(SURVEY, "fr")
    assert state.current == "overall"
    assert state.status == FlowStatus.ASKING
    assert flow.progress(state) == (1, 7)  # "what went wrong?" is hidden until an unhappy answer


def test_a_happy_answer_skips_the_what_went_wrong_question():
    state = flow.answer(flow.start(SURVEY, "fr"), "overall", "very_satisfied")
    assert state.current == "welcome"
    assert dict(state.answers) == {"overall": "very_satisfied"}


def test_an_unhappy_answer_asks_what_went_wrong_next():
    state = flow.answer(flow.start(SURVEY, "fr"), "overall", "dissatisfied")
    assert state.current == "why_unhappy"
    assert flow.progress(state) == (2, 8)
    state = flow.answer(state, "why_unhappy", ["premises", "waiting", "waiting"])
    assert state.answers["why_unhappy"] == ("waiting", "premises")  # definition order, no repeat


def test_skipping_every_follow_up_completes_with_the_main_answer_only():
    state = flow.answer(flow.start(SURVEY, "en"), "overall", "satisfied")
    while not state.finished:
        state = flow.skip(state, state.current)
    assert state.status == FlowStatus.COMPLETE
    assert dict(state.answers) == {"overall": "satisfied"}


def test_the_main_question_cannot_be_skipped():
    with pytest.raises(NotAsking):
        flow.skip(flow.start(SURVEY, "fr"), "overall")


def test_a_time_out_after_the_main_answer_keeps_it_as_partial():
    state = flow.answer(flow.start(SURVEY, "fr"), "overall", "satisfied")
    state = flow.answer(state, "welcome", "very_satisfied")
    timed_out = flow.time_out(state)
    assert timed_out.status == FlowStatus.PARTIAL
    assert dict(timed_out.answers) == {"overall": "satisfied", "welcome": "very_satisfied"}


def test_a_time_out_before_any_answer_keeps_nothing():
    assert flow.time_out(flow.start(SURVEY, "fr")).status == FlowStatus.ABANDONED


@pytest.mark.parametrize(
    ("question_id", "value"),
    [
        ("overall", "happy"),  # unknown choice
        ("overall", 3),  # a level is not a choice id
        ("overall", None),
    ],
)
def test_invalid_main_answers_are_refused_and_change_nothing(question_id, value):
    state = flow.start(SURVEY, "fr")
    with pytest.raises(InvalidAnswer):
        flow.answer(state, question_id, value)
    assert state.current == "overall"
    assert dict(state.answers) == {}


def test_answering_another_question_than_the_current_one_is_refused():
    state = flow.start(SURVEY, "fr")
    with pytest.raises(NotAsking):
        flow.answer(state, "welcome", "satisfied")


def test_text_answers_are_trimmed_and_bounded():
    comment = SURVEY.question("comment")
    assert normalise(comment, "  Très bon accueil  ") == "Très bon accueil"
    with pytest.raises(InvalidAnswer):
        normalise(comment, "x" * (comment.max_length + 1))
    assert normalise(comment, "   ") is None  # nothing typed: no answer


def _at_question(question_id: str):
    state = flow.answer(flow.start(SURVEY, "fr"), "overall", "dissatisfied")
    while state.current != question_id:
        state = flow.skip(state, state.current)
    return state


def test_a_blank_text_is_a_skip_not_an_error():
    state = flow.answer(_at_question("comment"), "comment", "   ")
    assert state.status == FlowStatus.COMPLETE
    assert "comment" not in state.answers


def test_an_empty_multiple_choice_is_a_skip_and_a_lone_choice_a_list_of_one():
    skipped = flow.answer(_at_question("why_unhappy"), "why_unhappy", [])
    assert (skipped.current, "why_unhappy" in skipped.answers) == ("welcome", False)
    one = flow.answer(_at_question("why_unhappy"), "why_unhappy", "waiting")
    assert one.answers["why_unhappy"] == ("waiting",)


def test_the_last_question_is_known_before_it_is_answered():
    assert not flow.is_last(flow.start(SURVEY, "fr"))
    assert flow.is_last(_at_question("comment"))
    assert not flow.is_last(_at_question("wait_band"))


def test_finishing_early_completes_what_was_answered():
    state = flow.answer(flow.start(SURVEY, "fr"), "overall", "satisfied")
    done = flow.finish_early(state)
    assert done.status == FlowStatus.COMPLETE
    assert done.current is None


def _valid_value(question, draw):
    if question.type in (QuestionType.SMILEY, QuestionType.SINGLE_CHOICE):
        return draw(st.sampled_from([c.id for c in question.choices]))
    if question.type == QuestionType.MULTIPLE_CHOICE:
        return draw(st.lists(st.sampled_from([c.id for c in question.choices]), min_size=1))
    return draw(st.text(alphabet="abcé ", min_size=1, max_size=20).filter(str.strip))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_sequence_of_taps_ends_in_one_final_state_with_only_visible_answers(data):
    state = flow.start(SURVEY, data.draw(st.sampled_from(["fr", "en"])))
    steps = 0
    while not state.finished:
        steps += 1
        assert steps <= len(SURVEY.questions) + 1  # the flow always moves forward
        question = state.question
        action = data.draw(st.sampled_from(["answer", "skip", "timeout"]))
        if action == "timeout":
            state = flow.time_out(state)
        elif action == "skip" and question.id != SURVEY.main_question:
            state = flow.skip(state, question.id)
        else:
            state = flow.answer(state, question.id, _valid_value(question, data.draw))
    assert state.status in {FlowStatus.COMPLETE, FlowStatus.PARTIAL, FlowStatus.ABANDONED}
    assert (SURVEY.main_question in state.answers) == (state.status != FlowStatus.ABANDONED)
    for question_id in state.answers:
        assert flow.is_visible(SURVEY.question(question_id), state.answers)


# --- the kiosk's short survey --------------------------------------------------------------


def _kiosk_after(main_choice: str):
    return flow.answer(flow.start(SURVEY, "fr", Channel.KIOSK), "overall", main_choice)


def test_the_kiosk_asks_one_follow_up_after_a_happy_answer():
    state = _kiosk_after("very_satisfied")
    assert (state.current, flow.progress(state)) == ("welcome", (2, 2))
    assert flow.is_last(state)
    done = flow.skip(state, "welcome")
    assert done.status == FlowStatus.COMPLETE


def test_the_kiosk_asks_why_then_one_more_after_an_unhappy_answer():
    state = _kiosk_after("dissatisfied")
    assert (state.current, flow.progress(state)) == ("why_unhappy", (2, 3))
    state = flow.answer(state, "why_unhappy", ["waiting"])
    assert (state.current, flow.progress(state)) == ("welcome", (3, 3))
    state = flow.answer(state, "welcome", "satisfied")
    assert state.status == FlowStatus.COMPLETE
    assert set(state.answers) == {"overall", "why_unhappy", "welcome"}


@pytest.mark.parametrize("main_choice", [c.id for c in SURVEY.main.choices])
def test_whatever_the_main_answer_the_kiosk_asks_at_most_two_follow_ups(main_choice):
    state = _kiosk_after(main_choice)
    asked = []
    while not state.finished:
        asked.append(state.current)
        state = flow.skip(state, state.current)
    assert 1 <= len(asked) <= 2
    assert all(SURVEY.question(q).kiosk for q in asked)


def test_the_phone_still_asks_every_question():
    state = flow.answer(flow.start(SURVEY, "fr"), "overall", "dissatisfied")
    asked = ["overall"]
    while not state.finished:
        asked.append(state.current)
        state = flow.skip(state, state.current)
    assert asked == [q.id for q in SURVEY.questions]
    assert not all(q.kiosk for q in SURVEY.questions)  # the phone asks more than the kiosk


# --- going back ------------------------------------------------------------------------


def test_back_returns_to_the_previous_question_with_its_answer_kept():
    state = flow.answer(_kiosk_after("dissatisfied"), "why_unhappy", ["waiting"])
    back = flow.back(state)
    assert back.current == "why_unhappy"
    assert back.answers["why_unhappy"] == ("waiting",)
    assert flow.progress(back) == (2, 3)
    replaced = flow.answer(back, "why_unhappy", ["premises"])
    assert (replaced.current, replaced.answers["why_unhappy"]) == ("welcome", ("premises",))


def test_back_to_the_main_question_and_a_happier_answer_drops_what_went_wrong():
    state = flow.answer(_kiosk_after("dissatisfied"), "why_unhappy", ["waiting"])
    state = flow.back(flow.back(state))
    assert state.current == "overall"
    state = flow.answer(state, "overall", "satisfied")
    assert dict(state.answers) == {"overall": "satisfied"}
    assert state.current == "welcome"


def test_skipping_a_question_after_going_back_withdraws_its_answer():
    state = flow.answer(_kiosk_after("dissatisfied"), "why_unhappy", ["waiting"])
    state = flow.skip(flow.back(state), "why_unhappy")
    assert "why_unhappy" not in state.answers
    assert state.current == "welcome"


def test_there_is_nothing_before_the_main_question_nor_after_the_end():
    with pytest.raises(NotAsking):
        flow.back(flow.start(SURVEY, "fr", Channel.KIOSK))
    with pytest.raises(NotAsking):
        flow.back(flow.finish_early(_kiosk_after("satisfied")))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_with_back_the_kiosk_still_ends_with_only_kiosk_questions_visible(data):
    state = flow.start(SURVEY, "fr", Channel.KIOSK)
    for _ in range(30):
        if state.finished:
            break
        question = state.question
        action = data.draw(st.sampled_from(["answer", "skip", "back", "timeout"]))
        if action == "timeout":
            state = flow.time_out(state)
        elif action == "back" and question.id != SURVEY.main_question:
            state = flow.back(state)
        elif action == "skip" and question.id != SURVEY.main_question:
            state = flow.skip(state, question.id)
        else:
            state = flow.answer(state, question.id, _valid_value(question, data.draw))
        position, total = flow.progress(state)
        assert 1 <= position <= total <= 3
    for question_id in state.answers:
        question = SURVEY.question(question_id)
        assert question.kiosk
        assert flow.is_visible(question, state.answers)
