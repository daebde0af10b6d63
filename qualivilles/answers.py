"""What the server derives from one answer, checked against the survey version it names. Pure.

The kiosk and the phone survey send `{question id: value}`; the figures need the main question's
level on its smiley scale, one row per chosen value, and the free texts (scrubbed) apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qualivilles.protocol import AnswerPayload
from qualivilles.scrub import scrub
from qualivilles.survey import Question, QuestionType, SurveyDefinition

Value = str | int | list[str]


class InvalidAnswer(ValueError):
    """An answer that does not fit its survey; `path` names the offending field."""

    def __init__(self, path: str, message: str):
        self.path = path
        super().__init__(f"{path}: {message}")


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


def smiley_levels(question: Question) -> int:
    return sum(1 for choice in question.choices if choice.level is not None)


def _check_value(question: Question, value: Value, path: str) -> list[str]:
    """The value as stored item strings; raises `InvalidAnswer` if it does not fit."""
    choice_ids = {choice.id for choice in question.choices}
    kind = question.type
    if kind in (QuestionType.SMILEY, QuestionType.SINGLE_CHOICE):
        if not isinstance(value, str) or value not in choice_ids:
            raise InvalidAnswer(path, f"not a choice of {question.id!r}: {value!r}")
        return [value]
    if kind == QuestionType.MULTIPLE_CHOICE:
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not set(values) <= choice_ids:
            raise InvalidAnswer(path, f"not choices of {question.id!r}: {value!r}")
        return sorted(set(values))
    if kind == QuestionType.YES_NO:
        if value not in ("yes", "no"):
            raise InvalidAnswer(path, f"expected 'yes' or 'no', got {value!r}")
        return [str(value)]
    if kind == QuestionType.SCALE_0_10:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
            raise InvalidAnswer(path, f"expected an integer from 0 to 10, got {value!r}")
        return [str(value)]
    if not isinstance(value, str) or len(value) > question.max_length:
        raise InvalidAnswer(path, f"expected a text of at most {question.max_length} characters")
    return []  # free text is kept as a scrubbed text, never as an item


def derive(payload: AnswerPayload, survey: SurveyDefinition) -> AnswerFacts:
    """Check every answered question against `survey` and derive the stored facts."""
    items: list[tuple[str, str]] = []
    texts: list[FreeText] = []
    known = {question.id: question for question in survey.questions}
    for question_id, value in payload.answers.items():
        path = f"payload.answers.{question_id}"
        question = known.get(question_id)
        if question is None:
            raise InvalidAnswer(path, f"survey {survey.id} v{survey.version} has no such question")
        items.extend((question_id, item) for item in _check_value(question, value, path))
        if question.type == QuestionType.TEXT and isinstance(value, str) and value.strip():
            cleaned = scrub(value)
            texts.append(FreeText(question_id, cleaned.text, cleaned.redacted))
    if payload.comment and payload.comment.strip():
        cleaned = scrub(payload.comment)
        texts.append(FreeText(None, cleaned.text, cleaned.redacted))
    main = survey.main
    main_choice = payload.answers.get(main.id)
    level = None
    if isinstance(main_choice, str):
        level = next(c.level for c in main.choices if c.id == main_choice)
    return AnswerFacts(
        main_choice=main_choice if isinstance(main_choice, str) else None,
        main_level=level,
        main_levels=smiley_levels(main) if level is not None else None,
        items=items,
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
