"""Answers and served visits at a desk, ingested through the real storage as devices send them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from qualivilles.protocol import RecordKind
from sync_server.storage import Source, Storage, uploads
from tests.fixtures.server import SERVICE, SITE, answer_payload, make_record

TABLET = Source(site=SITE, service=SERVICE, channel="tablet")


def answers(
    storage: Storage,
    choices: list[str | None],
    at: datetime,
    desk: tuple[str, str] = (SITE, SERVICE),
    **fields: Any,
) -> None:
    """One kiosk answer per choice at `desk`, a second apart from `at`; `fields` go in each."""
    source = Source(site=desk[0], service=desk[1], channel="kiosk")
    uploads.store_batch(
        storage,
        [
            make_record(answer_payload(c, **fields), at=at + timedelta(seconds=i))
            for i, c in enumerate(choices)
        ],
        source,
    )


def served(storage: Storage, waits_minutes: list[float], at: datetime) -> list[str]:
    """One visit per wait, arrived at `at` and taken in charge that many minutes later; their
    ids, for answers given through a visit's link."""
    records, ids = [], []
    for minutes in waits_minutes:
        visit_id = str(uuid.uuid4())
        ids.append(visit_id)
        records.append(
            make_record({"visit_id": visit_id, "event": "arrived"}, RecordKind.VISIT_EVENT, at)
        )
        end = at + timedelta(minutes=minutes)
        payload = {"visit_id": visit_id, "event": "taken_in_charge"}
        records.append(make_record(payload, RecordKind.VISIT_EVENT, end))
    uploads.store_batch(storage, records, TABLET)
    return ids
