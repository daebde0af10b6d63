"""Turn a phone survey form into the same record a kiosk would upload.

Phone answers then go through the device ingestion path unchanged, so the indicators never need
to know where an answer came from beyond its `channel`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from kiosk.core.protocol import (
    AnswerPayload,
    Channel,
    RecordIn,
    RecordKind,
    ResponseStatus,
    new_record_id,
    payload_hash,
)
from kiosk.core.survey import FALLBACK_LANGUAGE, SurveyDefinition


class InvalidChoice(ValueError):
    """The submitted choice is not one of the main question's choices: nothing is stored."""


def main_answer_record(
    survey: SurveyDefinition,
    choice: object,
    language: str,
    received_at: datetime,
    visit_id: UUID | None = None,
) -> RecordIn:
    """A complete answer to the main question, stamped with the server's clock.

    `visit_id` is the seam for per-visit links (signed tokens of a later issue); the general
    link passes None.
    """
    valid = {c.id for c in survey.main.choices}
    if not isinstance(choice, str) or choice not in valid:
        raise InvalidChoice(choice)
    if language not in survey.languages:
        language = FALLBACK_LANGUAGE
    payload: dict[str, Any] = AnswerPayload(
        survey_id=survey.id,
        survey_version=survey.version,
        channel=Channel.PHONE,
        language=language,
        status=ResponseStatus.COMPLETE,
        answers={survey.main.id: choice},
        visit_id=visit_id,
    ).model_dump(mode="json", exclude_none=True)
    return RecordIn(
        id=UUID(new_record_id()),
        kind=RecordKind.ANSWER,
        payload_hash=payload_hash(payload),
        device_time=received_at,
        # A phone has no monotonic clock we can read; the server's stamp is the capture time.
        monotonic_ms=0,
        payload=payload,
    )
