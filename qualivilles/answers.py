"""One visitor's answers: checked, normalised and derived by the same rules everywhere. Pure.

`normalise` is the one check of a value against its question. The survey flow calls it on every
tap on the kiosk and every page of the phone survey; the server calls it again (through
`derive`) on every answer it receives, so whatever a kiosk or phone keeps, the server accepts with
the same items. Per question type:

- smiley, single choice: one of the question's choice ids;
- multiple choice: choice ids, kept in the survey's order without repeats (a lone id is a list
  of one);
- yes/no: "yes" or "no";
- 0–10 scale: a whole number from 0 to 10;
- text: trimmed, at most the question's `max_length` characters.

Nothing picked (an empty multiple choice) or nothing typed (a blank text) is no answer at all:
the flow takes it as a skip and the server derives nothing from it.

`derive` gives what the figures need from a whole answer: the main question's level on its
smiley scale, one item per chosen value, and the free texts (scrubbed) apart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from qualivilles.protocol import AnswerPayload
from qualivilles.scrub import scrub
from qualivilles.survey import Question, QuestionType, SurveyDefinition

# An answer as the flow keeps it; a multiple choice is a tuple so that a state stays frozen.
AnswerValue = str | int | tuple[str, ...]
# The same answer as `AnswerPayload.answers` carries it.
WireValue = str | int | list[str]


class InvalidAnswer(ValueError):
    """A value that does not fit its question; `path` names it (the question id, or the field
    of the payload that carried it)."""

    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


def _one_choice(question: Question, value: object) -> str:
    if not isinstance(value, str) or value not in {c.id for c in question.choices}:
        raise InvalidAnswer(question.id, f"not a choice of {question.id!r}: {value!r}")
    return value


def _choices(question: Question, value: object) -> tuple[str, ...] | None:
    picked = [value] if isinstance(value, str) else value
    known = [choice.id for choice in question.choices]
    if not isinstance(picked, list | tuple) or not all(
        isinstance(v, str) and v in known for v in picked
    ):
        raise InvalidAnswer(question.id, f"not choices of {question.id!r}: {value!r}")
    # The survey's order, no repeats: the same picks always give the same answer.
    return tuple(choice for choice in known if choice in picked) or None


def _yes_no(question: Question, value: object) -> str:
    if value not in ("yes", "no"):
        raise InvalidAnswer(question.id, f"expected 'yes' or 'no', got {value!r}")
    return str(value)


def _scale(question: Question, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise InvalidAnswer(question.id, f"expected an integer from 0 to 10, got {value!r}")
    return value


def _text(question: Question, value: object) -> str | None:
    text = value.strip() if isinstance(value, str) else None
    if text is None or len(text) > question.max_length:
        raise InvalidAnswer(
            question.id, f"expected a text of at most {question.max_length} characters"
        )
    return text or None


_NORMALISE: dict[QuestionType, Callable[[Question, object], AnswerValue | None]] = {
    QuestionType.SMILEY: _one_choice,
    QuestionType.SINGLE_CHOICE: _one_choice,
    QuestionType.MULTIPLE_CHOICE: _choices,
    QuestionType.YES_NO: _yes_no,
    QuestionType.SCALE_0_10: _scale,
    QuestionType.TEXT: _text,
}


def normalise(question: Question, value: object) -> AnswerValue | None:
    """`value` in the one form it is kept in; None when it is no answer (nothing picked or
    typed). Raises `InvalidAnswer` when it does not fit `question`."""
    return _NORMALISE[question.type](question, value)


def wire_value(value: AnswerValue) -> WireValue:
    """A normalised answer as `AnswerPayload.answers` carries it."""
    return list(value) if isinstance(value, tuple) else value


def items(question: Question, value: AnswerValue) -> list[str]:
    """The stored items of a normalised answer: one per chosen value; none for a free text."""
    if question.type == QuestionType.TEXT:
        return []
    return list(value) if isinstance(value, tuple) else [str(value)]


def payload_answers(
    survey: SurveyDefinition, answers: Mapping[str, AnswerValue]
) -> tuple[dict[str, WireValue], str | None]:
    """The flow's answers as a kiosk or phone sends them: choices by question, and the free-text
    answer as the comment."""
    choices: dict[str, WireValue] = {}
    comment: str | None = None
    for question_id, value in answers.items():
        if survey.question(question_id).type == QuestionType.TEXT:
            comment = str(value)
        else:
            choices[question_id] = wire_value(value)
    return choices, comment


@dataclass(frozen=True)
class FreeText:
    question_id: str | None  # None for the survey's comment field
    text: str
    flagged: bool


@dataclass(frozen=True)
class AnswerFacts:
    main_choice: str | None
    main_level: int | None
    main_levels: int | None
    items: list[tuple[str, str]] = field(default_factory=list)
    texts: list[FreeText] = field(default_factory=list)


def _free_text(question_id: str | None, text: str) -> FreeText:
    cleaned = scrub(text)
    return FreeText(question_id, cleaned.text, cleaned.redacted)


def derive(payload: AnswerPayload, survey: SurveyDefinition) -> AnswerFacts:
    """Check every answered question against `survey` and derive the stored facts."""
    found: list[tuple[str, str]] = []
    texts: list[FreeText] = []
    for question_id, value in payload.answers.items():
        path = f"payload.answers.{question_id}"
        try:
            question = survey.question(question_id)
        except KeyError:
            raise InvalidAnswer(
                path, f"survey {survey.id} v{survey.version} has no such question"
            ) from None
        try:
            normalised = normalise(question, value)
        except InvalidAnswer as error:
            raise InvalidAnswer(path, error.message) from None
        if normalised is None:
            continue
        found.extend((question_id, item) for item in items(question, normalised))
        if question.type == QuestionType.TEXT:
            texts.append(_free_text(question_id, str(normalised)))
    if payload.comment and payload.comment.strip():
        texts.append(_free_text(None, payload.comment))
    main = survey.main
    main_choice = payload.answers.get(main.id)
    level = None
    if isinstance(main_choice, str):
        level = next(c.level for c in main.choices if c.id == main_choice)
    return AnswerFacts(
        main_choice=main_choice if isinstance(main_choice, str) else None,
        main_level=level,
        main_levels=main.levels if level is not None else None,
        items=found,
        texts=texts,
    )


def logged_payload(payload: dict[str, Any], texts: list[FreeText]) -> dict[str, Any]:
    """The payload as sent with its free texts (from `derive`) replaced by their scrubbed copies.

    Only the comment and text answers can hold what a visitor typed; everything else was checked
    against the survey. Returns `payload` itself when nothing was redacted."""
    redacted = [text for text in texts if text.flagged]
    if not redacted:
        return payload
    logged = dict(payload)
    answers = dict(logged.get("answers") or {})
    for text in redacted:
        if text.question_id is None:
            logged["comment"] = text.text
        else:
            answers[text.question_id] = text.text
    if answers:
        logged["answers"] = answers
    return logged
