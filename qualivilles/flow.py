"""The survey flow as a pure state machine: start, answer, skip, go back, branch, time out, finish.

Every transition returns a new `FlowState`; nothing here touches the screen, the disk or the
network, so the same rules drive the kiosk and can be tested exhaustively. A flow runs on one
channel: the kiosk asks only the questions marked `kiosk` (a short survey), the phone asks all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType

from qualivilles.answers import AnswerValue, normalise
from qualivilles.answers import InvalidAnswer as InvalidAnswer  # what `answer` raises
from qualivilles.protocol import Channel
from qualivilles.survey import Question, SurveyDefinition


class FlowStatus(StrEnum):
    ASKING = "asking"
    COMPLETE = "complete"  # every visible question answered or skipped
    PARTIAL = "partial"  # the visitor walked away after the main answer
    ABANDONED = "abandoned"  # timed out before the main answer: nothing to keep


class NotAsking(RuntimeError):
    """A transition was requested on a flow that is already over, or for another question."""


@dataclass(frozen=True)
class FlowState:
    survey: SurveyDefinition
    language: str
    current: str | None
    status: FlowStatus = FlowStatus.ASKING
    answers: Mapping[str, AnswerValue] = field(default_factory=lambda: MappingProxyType({}))
    channel: Channel = Channel.PHONE

    @property
    def question(self) -> Question | None:
        return None if self.current is None else self.survey.question(self.current)

    @property
    def finished(self) -> bool:
        return self.status != FlowStatus.ASKING


def start(survey: SurveyDefinition, language: str, channel: Channel = Channel.PHONE) -> FlowState:
    """A new visitor: the main question is asked first."""
    return FlowState(
        survey=survey, language=language, current=survey.main_question, channel=channel
    )


def is_asked(question: Question, channel: Channel) -> bool:
    """The kiosk asks only its short survey; every other channel asks every question."""
    return question.kiosk or channel != Channel.KIOSK


def is_visible(question: Question, answers: Mapping[str, AnswerValue]) -> bool:
    """Branching: a question with `show_if` is asked only after one of the listed answers."""
    if question.show_if is None:
        return True
    given = answers.get(question.show_if.question)
    if isinstance(given, tuple):
        return any(choice in question.show_if.any_of for choice in given)
    return given in question.show_if.any_of


def _shown(state: FlowState, answers: Mapping[str, AnswerValue] | None = None) -> list[str]:
    """Ids of the questions this visitor sees on this channel, in definition order."""
    given = state.answers if answers is None else answers
    return [
        q.id for q in state.survey.questions if is_asked(q, state.channel) and is_visible(q, given)
    ]


def next_question(
    survey: SurveyDefinition,
    answers: Mapping[str, AnswerValue],
    after: str,
    channel: Channel = Channel.PHONE,
) -> str | None:
    """The first visible question after `after` in definition order, or None at the end."""
    ids = [q.id for q in survey.questions]
    for question in survey.questions[ids.index(after) + 1 :]:
        if (
            question.id != survey.main_question
            and is_asked(question, channel)
            and is_visible(question, answers)
        ):
            return question.id
    return None


def _still_visible(
    survey: SurveyDefinition, answers: Mapping[str, AnswerValue]
) -> dict[str, AnswerValue]:
    """The answers whose question is still asked after a changed answer (a branch undone)."""
    kept: dict[str, AnswerValue] = {}
    for question in survey.questions:  # `show_if` names only earlier questions
        if question.id in answers and is_visible(question, kept):
            kept[question.id] = answers[question.id]
    return kept


def _require_asking(state: FlowState, question_id: str) -> None:
    if state.finished or state.current != question_id:
        raise NotAsking(f"not asking {question_id!r} (current: {state.current!r})")


def _advance(state: FlowState, answers: Mapping[str, AnswerValue]) -> FlowState:
    assert state.current is not None
    answers = _still_visible(state.survey, answers)
    upcoming = next_question(state.survey, answers, state.current, state.channel)
    status = FlowStatus.ASKING if upcoming is not None else FlowStatus.COMPLETE
    return replace(state, answers=MappingProxyType(dict(answers)), current=upcoming, status=status)


def answer(state: FlowState, question_id: str, value: object) -> FlowState:
    """Record an answer to the current question and move to the next visible one.

    The value is checked and normalised by `answers.normalise` (`InvalidAnswer` if it does not
    fit); one that is no answer (nothing picked or typed) skips the question."""
    _require_asking(state, question_id)
    normalised = normalise(state.survey.question(question_id), value)
    if normalised is None:
        return skip(state, question_id)
    return _advance(state, {**state.answers, question_id: normalised})


def skip(state: FlowState, question_id: str) -> FlowState:
    """Every follow-up is optional; the main question is not (a skip there is a time-out).

    Skipping a question answered before going back withdraws that answer."""
    _require_asking(state, question_id)
    if question_id == state.survey.main_question:
        raise NotAsking("the main question cannot be skipped")
    return _advance(state, {k: v for k, v in state.answers.items() if k != question_id})


def back(state: FlowState) -> FlowState:
    """The previous question this visitor saw, its answer kept until they answer it again.

    `NotAsking` on the main question (nothing before it) or once the flow is over."""
    if state.finished or state.current is None:
        raise NotAsking("the flow is over")
    shown = _shown(state)
    position = shown.index(state.current)
    if position == 0:
        raise NotAsking("nothing before the main question")
    return replace(state, current=shown[position - 1])


def finish_early(state: FlowState) -> FlowState:
    """The visitor pressed "finish": what was answered is complete as far as they chose."""
    if state.finished:
        return state
    if state.survey.main_question not in state.answers:
        return replace(state, current=None, status=FlowStatus.ABANDONED)
    return replace(state, current=None, status=FlowStatus.COMPLETE)


def time_out(state: FlowState) -> FlowState:
    """Inactivity: keep what was answered as partial; before the main answer there is nothing."""
    if state.finished:
        return state
    status = (
        FlowStatus.PARTIAL if state.survey.main_question in state.answers else FlowStatus.ABANDONED
    )
    return replace(state, current=None, status=status)


def progress(state: FlowState) -> tuple[int, int]:
    """(position of the current question, number of questions this visitor will see on this
    channel) — 1-based."""
    visible = _shown(state)
    if state.current is None:
        return len(visible), len(visible)
    return visible.index(state.current) + 1, len(visible)


def is_last(state: FlowState) -> bool:
    """Whether the current question is the last this visitor will see, whatever they answer:
    no later question is visible now, and none is asked only after some answer to this one."""
    survey, current = state.survey, state.current
    if current is None:
        return False
    ids = [q.id for q in survey.questions]
    later = [q for q in survey.questions[ids.index(current) + 1 :] if is_asked(q, state.channel)]
    return not any(
        is_visible(q, state.answers) or (q.show_if is not None and q.show_if.question == current)
        for q in later
    )
