"""Reading an upload: the envelope must be usable; each record is then read on its own.

FastAPI would validate the whole `SyncRequest` at once and refuse every record for one bad
envelope field. Here a malformed record becomes its own `rejected` ack (when its id can be read)
and the others are stored: one poison record never blocks a device's backlog. Only a body whose
top level is unusable (not JSON, not an object, a bad `sent_at`, too many records) is refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from qualivilles.protocol import (
    Ack,
    AckStatus,
    RecordIn,
    SyncEnvelope,
    SyncRequest,
)
from sync_server.api.problems import ApiError

# Per position in the batch: a valid record, its rejection, or None when even its id is
# unreadable (nothing can name it: it gets no ack and stays on the device).
Item = RecordIn | Ack | None


@dataclass(frozen=True)
class Batch:
    sent_at: datetime
    items: list[Item]

    @property
    def records(self) -> list[RecordIn]:
        """The valid records, in the order sent."""
        return [item for item in self.items if isinstance(item, RecordIn)]

    def acks(self, stored: list[Ack]) -> list[Ack]:
        """All acks in the order sent: `stored` (one per valid record) with the rejections."""
        from_storage: Iterator[Ack] = iter(stored)
        merged: list[Ack] = []
        for item in self.items:
            if isinstance(item, RecordIn):
                merged.append(next(from_storage))
            elif item is not None:
                merged.append(item)
        return merged


def parse_body(body: bytes) -> Batch:
    """The batch in a request body; raises a 400/422 problem when the envelope is unusable."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(
            400, "invalid_json", "Malformed JSON", f"the body is not JSON: {error}"
        ) from None
    return parse_data(data)


def parse_data(data: Any) -> Batch:
    try:
        envelope = SyncEnvelope.model_validate(data)
    except ValidationError:
        raise _whole_request_errors(data) from None
    return Batch(
        sent_at=envelope.sent_at,
        items=[read_record(raw, index) for index, raw in enumerate(envelope.records)],
    )


def read_record(raw: Any, index: int) -> Item:
    """One record of the batch: valid, rejected with the reasons, or None if nameless."""
    try:
        return RecordIn.model_validate(raw)
    except ValidationError as error:
        record_id = readable_id(raw)
        if record_id is None:
            return None
        return Ack(
            id=record_id,
            status=AckStatus.REJECTED,
            code="invalid_record",
            detail=_detail(error, f"records.{index}"),
        )


def readable_id(raw: Any) -> UUID | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        return None
    try:
        return UUID(raw["id"])
    except ValueError:
        return None


def _detail(error: ValidationError, prefix: str) -> str:
    parts = []
    for item in error.errors(include_url=False):
        path = ".".join([prefix, *(str(part) for part in item["loc"])])
        parts.append(f"{path}: {item['msg']}")
    return "; ".join(parts)


def _whole_request_errors(data: Any) -> RequestValidationError:
    """Every error of the request, the records' included, so the client can fix them at once."""
    try:
        SyncRequest.model_validate(data)
    except ValidationError as error:
        items = error.errors(include_url=False)
    else:  # pragma: no cover - the full model is stricter than the envelope
        items = []
    return RequestValidationError([{**item, "loc": ("body", *item["loc"])} for item in items])
