"""The phone survey's answer in progress, and the record it becomes once finished.

Between pages the visitor's answers travel in the page itself (a signed token in the URL or a
hidden field, never a cookie or a server session): `pack` signs them with the app's secret,
`unpack` checks them. The flow rules are the kiosk's own (`qualivilles.flow`), and a finished
answer becomes the same record a kiosk would upload, so it goes through the device ingestion path
unchanged (comment scrubbing included) and the indicators only see its `channel`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any
from uuid import UUID

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from qualivilles.answers import AnswerValue, payload_answers, wire_value
from qualivilles.flow import FlowState, FlowStatus
from qualivilles.protocol import (
    AnswerPayload,
    Channel,
    RecordIn,
    RecordKind,
    ResponseStatus,
    payload_hash,
)
from qualivilles.survey import FALLBACK_LANGUAGE, SurveyDefinition
from sync_server.storage import Storage, surveys

# Long enough to answer slowly, short enough that a token picked from a history is useless.
STATE_MAX_AGE_SECONDS = 2 * 3600
_SALT = "phone-survey-state"

# (survey id, version) → that published version, or None when this server does not know it.
SurveyFinder = Callable[[str, int], SurveyDefinition | None]


class StateExpired(Exception):
    """The visitor took longer than STATE_MAX_AGE_SECONDS: start again."""


class StateInvalid(Exception):
    """Not a state this server signed for this link (tampered, truncated, or from elsewhere)."""


class SurveyGone(Exception):
    """The state names a survey version this server does not know (any more)."""


@dataclass(frozen=True)
class Progress:
    """A phone answer between two pages: the flow, the record id chosen at the main answer (so a
    resent last page stores nothing twice) and whether that main answer came in a burst."""

    flow: FlowState
    record_id: str
    suspect: bool


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        secret, salt=_SALT, signer_kwargs={"digest_method": hashlib.sha256}
    )


def pack(secret: str, binding: str, progress: Progress) -> str:
    """The signed, URL-safe state; `binding` ties it to one link (a desk, or one visit)."""
    flow = progress.flow
    data = {
        "b": binding,
        "s": flow.survey.id,
        "v": flow.survey.version,
        "q": flow.current,
        "a": {question: wire_value(value) for question, value in flow.answers.items()},
        "r": progress.record_id,
        "x": progress.suspect,
    }
    return _serializer(secret).dumps(data)


def stored_surveys(storage: Storage) -> SurveyFinder:
    """Finds a published survey version in `storage`."""

    def find(survey_id: str, version: int) -> SurveyDefinition | None:
        with storage.read() as connection:
            return surveys.remembered(connection, survey_id, version)

    return find


def unpack(
    secret: str, binding: str, token: str, language: str, find_survey: SurveyFinder
) -> Progress:
    """The state `pack` made for `binding`, its survey version looked up with `find_survey`;
    raises StateExpired, StateInvalid or SurveyGone."""
    try:
        data = _serializer(secret).loads(token, max_age=STATE_MAX_AGE_SECONDS)
    except SignatureExpired:
        raise StateExpired from None
    except BadSignature:
        raise StateInvalid from None
    try:
        if data["b"] != binding:
            raise StateInvalid
        survey = find_survey(str(data["s"]), int(data["v"]))
        if survey is None:
            raise SurveyGone
        current = data["q"]
        if current is not None:
            survey.question(current)  # KeyError if the version does not have it
        answers: dict[str, AnswerValue] = {
            str(q): tuple(v) if isinstance(v, list) else v for q, v in data["a"].items()
        }
        record_id = str(UUID(data["r"]))
        suspect = bool(data["x"])
    except (KeyError, TypeError, ValueError, AttributeError):
        raise StateInvalid from None
    if language not in survey.languages:
        language = FALLBACK_LANGUAGE
    flow = FlowState(
        survey=survey,
        language=language,
        current=current,
        status=FlowStatus.ASKING if current is not None else FlowStatus.COMPLETE,
        answers=MappingProxyType(answers),
    )
    return Progress(flow, record_id, suspect)


def response_record(
    progress: Progress, received_at: datetime, visit_id: UUID | str | None = None
) -> RecordIn:
    """The finished answer as a record, stamped with the server's clock (a phone has no clock
    we can trust or read monotonically)."""
    flow = progress.flow
    survey = flow.survey
    language = flow.language if flow.language in survey.languages else FALLBACK_LANGUAGE
    choices, comment = payload_answers(survey, flow.answers)
    payload: dict[str, Any] = AnswerPayload(
        survey_id=survey.id,
        survey_version=survey.version,
        channel=Channel.PHONE,
        language=language,
        # "Finish now" counts as complete, as on the kiosk: the visitor chose to stop there.
        status=ResponseStatus.COMPLETE,
        suspect=progress.suspect,
        answers=choices,
        comment=comment,
        visit_id=UUID(str(visit_id)) if visit_id is not None else None,
    ).model_dump(mode="json", exclude_none=True)
    return RecordIn(
        id=UUID(progress.record_id),
        kind=RecordKind.ANSWER,
        payload_hash=payload_hash(payload),
        device_time=received_at,
        monotonic_ms=0,
        payload=payload,
    )
