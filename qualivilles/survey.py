"""Survey definitions: the versioned data files under `assets/surveys/`, validated on load.

A definition is shared by the kiosk, the phone survey and the server's indicators, so every
rule about its shape lives here. Loading reports *every* problem at once, each with its path
(e.g. `questions[2].show_if.question`), so whoever edits a file fixes it in one go.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
)

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
# A text in several languages: {"fr": "...", "en": "..."}; French is the fallback.
Localized = dict[LanguageCode, Annotated[str, StringConstraints(min_length=1, max_length=500)]]

FALLBACK_LANGUAGE = "fr"


def _not_a_flag(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a number, not true or false")
    return value


# JSON's integers and flags, as the published schema reads them: `true` is not 1, nor 1 `true`.
Integer = Annotated[int, BeforeValidator(_not_a_flag)]


class QuestionType(StrEnum):
    SMILEY = "smiley"  # the satisfaction scale (levels + "no opinion")
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    YES_NO = "yes_no"
    SCALE_0_10 = "scale_0_10"
    TEXT = "text"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(_Model):
    id: Slug
    label: Localized
    # Satisfaction level on the smiley scale, 0 = worst; None = "no opinion" (not expressed).
    level: Annotated[int, Field(ge=0, le=10), BeforeValidator(_not_a_flag)] | None = None


class ShowIf(_Model):
    """Ask this question only when an earlier question was answered with one of `any_of`."""

    question: Slug
    any_of: list[Slug] = Field(min_length=1)


def _asked_everywhere(kiosk: bool) -> bool:
    return kiosk


class Question(_Model):
    id: Slug
    type: QuestionType
    text: Localized
    choices: list[Choice] = Field(default_factory=list)
    show_if: ShowIf | None = None
    # Counts towards the per-question satisfaction indicators (smiley questions only).
    indicator: StrictBool = False
    # The self-reported waiting band, linked to measured waits in the indicators.
    wait_band: StrictBool = False
    max_length: Integer = Field(default=500, ge=1, le=2000)
    # Asked on the kiosk too; the phone survey asks every question. Left out of the JSON when
    # true, so that versions published before this field existed keep their content hash.
    kiosk: StrictBool = Field(default=True, exclude_if=_asked_everywhere)

    @property
    def levels(self) -> int:
        """The number of steps on this question's smiley scale ("no opinion" is not one)."""
        return sum(1 for choice in self.choices if choice.level is not None)


class SurveyDefinition(_Model):
    id: Slug
    version: Integer = Field(ge=1)
    languages: list[LanguageCode] = Field(min_length=1)
    title: Localized
    thanks: Localized
    main_question: Slug
    questions: list[Question] = Field(min_length=1)

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    @property
    def main(self) -> Question:
        return self.question(self.main_question)

    @property
    def follow_ups(self) -> list[Question]:
        return [q for q in self.questions if q.id != self.main_question]

    @property
    def kiosk_questions(self) -> list[Question]:
        """The short survey a kiosk asks (the main question first); the phone asks them all."""
        return [q for q in self.questions if q.kiosk]


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class SurveyDefinitionError(ValueError):
    """A definition that cannot be used; `problems` lists every error with its path."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"invalid survey definition {source}:\n{lines}")


def localized(text: dict[str, str], language: str) -> str:
    """The text in `language`, else French, else whatever exists."""
    return text.get(language) or text.get(FALLBACK_LANGUAGE) or next(iter(text.values()))


def _pydantic_path(loc: tuple[str | int, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(root)"


def _semantic_problems(survey: SurveyDefinition) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, question in enumerate(survey.questions):
        here = f"questions[{index}]"
        if question.id in seen:
            problems.append(Problem(f"{here}.id", f"duplicate question id {question.id!r}"))
        choice_ids = [choice.id for choice in question.choices]
        if len(set(choice_ids)) != len(choice_ids):
            problems.append(Problem(f"{here}.choices", "duplicate choice ids"))
        needs_choices = question.type in {
            QuestionType.SMILEY,
            QuestionType.SINGLE_CHOICE,
            QuestionType.MULTIPLE_CHOICE,
        }
        if needs_choices and len(question.choices) < 2:
            problems.append(Problem(f"{here}.choices", "needs at least two choices"))
        if not needs_choices and question.choices:
            problems.append(Problem(f"{here}.choices", f"a {question.type} question has none"))
        if question.type == QuestionType.SMILEY:
            levels = [c.level for c in question.choices if c.level is not None]
            if sorted(levels) != list(range(question.levels)) or question.levels < 2:
                problems.append(
                    Problem(f"{here}.choices", "smiley levels must be 0, 1, 2… without gaps")
                )
        elif question.indicator:
            problems.append(Problem(f"{here}.indicator", "only smiley questions are indicators"))
        for language in (FALLBACK_LANGUAGE, survey.languages[0]):
            if language not in question.text:
                problems.append(Problem(f"{here}.text", f"missing {language!r} text"))
        if question.show_if is not None:
            problems.extend(_show_if_problems(survey, index, question.show_if, seen))
        seen.setdefault(question.id, index)
    if survey.main_question not in seen:
        problems.append(Problem("main_question", f"no question {survey.main_question!r}"))
    else:
        main = survey.questions[seen[survey.main_question]]
        if main.type != QuestionType.SMILEY:
            problems.append(Problem("main_question", "the main question must be a smiley scale"))
        if main.show_if is not None:
            problems.append(Problem("main_question", "the main question cannot be conditional"))
        if not main.kiosk:
            problems.append(Problem("main_question", "the main question is asked on the kiosk"))
    if FALLBACK_LANGUAGE not in survey.languages:
        problems.append(Problem("languages", "French ('fr') must be offered"))
    return problems


def _show_if_problems(
    survey: SurveyDefinition, index: int, show_if: ShowIf, earlier: dict[str, int]
) -> list[Problem]:
    here = f"questions[{index}].show_if"
    if show_if.question not in earlier:
        return [Problem(f"{here}.question", f"{show_if.question!r} is not an earlier question")]
    target = survey.questions[earlier[show_if.question]]
    known = {choice.id for choice in target.choices} | (
        {"yes", "no"} if target.type == QuestionType.YES_NO else set()
    )
    return [
        Problem(f"{here}.any_of[{i}]", f"{target.id!r} has no choice {choice!r}")
        for i, choice in enumerate(show_if.any_of)
        if choice not in known
    ]


def parse_definition(data: Any, source: str = "<data>") -> SurveyDefinition:
    """Validate a decoded definition; raise `SurveyDefinitionError` listing every problem."""
    try:
        survey = SurveyDefinition.model_validate(data)
    except ValidationError as error:
        problems = [Problem(_pydantic_path(tuple(e["loc"])), e["msg"]) for e in error.errors()]
        raise SurveyDefinitionError(source, problems) from None
    problems = _semantic_problems(survey)
    if problems:
        raise SurveyDefinitionError(source, problems)
    return survey


def load_definition(path: Path) -> SurveyDefinition:
    """Read and validate one definition file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise SurveyDefinitionError(
            str(path), [Problem(f"line {error.lineno}", error.msg)]
        ) from None
    return parse_definition(data, str(path))


def missing_translations(survey: SurveyDefinition) -> list[Problem]:
    """Every text that lacks one of the survey's declared languages (French is used instead)."""
    missing: list[Problem] = []

    def check(path: str, text: dict[str, str]) -> None:
        missing.extend(
            Problem(path, f"no {language!r} translation")
            for language in survey.languages
            if language not in text
        )

    check("title", survey.title)
    check("thanks", survey.thanks)
    for qi, question in enumerate(survey.questions):
        check(f"questions[{qi}].text", question.text)
        for ci, choice in enumerate(question.choices):
            check(f"questions[{qi}].choices[{ci}].label", choice.label)
    return missing
