"""The survey flow as a pure state machine: start, answer, skip, branch, time out, finish.

Every transition returns a new `FlowState`; nothing here touches the screen, the disk or the
network, so the same rules drive the kiosk and can be tested exhaustively.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType

from qualivilles.survey import Question, QuestionType, SurveyDefinition

AnswerValue = str | int | tuple[str, ...]


class FlowStatus(StrEnum):
    ASKING = "asking"
    COMPLETE = "complete"  # every visible question answered or skipped
    PARTIAL = "partial"  # the visitor walked away after the main answer
    ABANDONED = "abandoned"  # timed out before the main answer: nothing to keep


class InvalidAnswer(ValueError):
    """The value does not fit the question (unknown choice, out of range, too long…)."""


class NotAsking(RuntimeError):
    """A transition was requested on a flow that is already over, or for another question."""


@dataclass(frozen=True)
class FlowState:
    survey: SurveyDefinition
    language: str
    current: str | None
    status: FlowStatus = FlowStatus.ASKING
    answers: Mapping[str, AnswerValue] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def question(self) -> Question | None:
        return None if self.current is None else self.survey.question(self.current)

    @property
    def finished(self) -> bool:
        return self.status != FlowStatus.ASKING


def start(survey: SurveyDefinition, language: str) -> FlowState:
    """A new visitor: the main question is asked first."""
    return FlowState(survey=survey, language=language, current=survey.main_question)


def is_visible(question: Question, answers: Mapping[str, AnswerValue]) -> bool:
    """Branching: a question with `show_if` is asked only after one of the listed answers."""
    if question.show_if is None:
        return True
    given = answers.get(question.show_if.question)
    if isinstance(given, tuple):
        return any(choice in question.show_if.any_of for choice in given)
    return given in question.show_if.any_of


def next_question(
    survey: SurveyDefinition, answers: Mapping[str, AnswerValue], after: str
) -> str | None:
    """The first visible question after `after` in definition order, or None at the end."""
    ids = [q.id for q in survey.questions]
    for question in survey.questions[ids.index(after) + 1 :]:
        if question.id != survey.main_question and is_visible(question, answers):
            return question.id
    return None


def validate_answer(question: Question, value: object) -> AnswerValue:
    """Normalise `value` for `question` or raise `InvalidAnswer` saying why."""
    choice_ids = [choice.id for choice in question.choices]
    match question.type:
        case QuestionType.SMILEY | QuestionType.SINGLE_CHOICE:
            if value not in choice_ids:
                raise InvalidAnswer(f"{question.id}: unknown choice {value!r}")
            return str(value)
        case QuestionType.YES_NO:
            if value not in ("yes", "no"):
                raise InvalidAnswer(f"{question.id}: expected 'yes' or 'no', got {value!r}")
            return str(value)
        case QuestionType.MULTIPLE_CHOICE:
            if isinstance(value, str) or not isinstance(value, list | tuple) or not value:
                raise InvalidAnswer(f"{question.id}: expected a non-empty list of choices")
            unknown = [v for v in value if v not in choice_ids]
            if unknown:
                raise InvalidAnswer(f"{question.id}: unknown choices {unknown!r}")
            # Definition order, no repeats: the same picks always give the same payload.
            return tuple(c for c in choice_ids if c in value)
        case QuestionType.SCALE_0_10:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
                raise InvalidAnswer(f"{question.id}: expected a whole number from 0 to 10")
            return value
        case QuestionType.TEXT:
            if not isinstance(value, str):
                raise InvalidAnswer(f"{question.id}: expected text")
            text = value.strip()
            if not text or len(text) > question.max_length:
                raise InvalidAnswer(
                    f"{question.id}: text must be 1 to {question.max_length} characters"
                )
            return text
    raise InvalidAnswer(f"{question.id}: unsupported question type {question.type!r}")


def _require_asking(state: FlowState, question_id: str) -> None:
    if state.finished or state.current != question_id:
        raise NotAsking(f"not asking {question_id!r} (current: {state.current!r})")


def _advance(state: FlowState, answers: Mapping[str, AnswerValue]) -> FlowState:
    assert state.current is not None
    upcoming = next_question(state.survey, answers, state.current)
    status = FlowStatus.ASKING if upcoming is not None else FlowStatus.COMPLETE
    return replace(state, answers=MappingProxyType(dict(answers)), current=upcoming, status=status)


def answer(state: FlowState, question_id: str, value: object) -> FlowState:
    """Record an answer to the current question and move to the next visible one."""
    _require_asking(state, question_id)
    normalised = validate_answer(state.survey.question(question_id), value)
    return _advance(state, {**state.answers, question_id: normalised})


def skip(state: FlowState, question_id: str) -> FlowState:
    """Every follow-up is optional; the main question is not (a skip there is a time-out)."""
    _require_asking(state, question_id)
    if question_id == state.survey.main_question:
        raise NotAsking("the main question cannot be skipped")
    return _advance(state, state.answers)


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
    """(position of the current question, number of questions this visitor will see) — 1-based."""
    visible = [q.id for q in state.survey.questions if is_visible(q, state.answers)]
    if state.current is None:
        return len(visible), len(visible)
    return visible.index(state.current) + 1, len(visible)
