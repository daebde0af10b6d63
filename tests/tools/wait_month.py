"""A desk month of measured waits and linked phone answers, computed by hand; the waiting-time
tests (figures, pages, PDF) ingest it and read the figures below.

Tuesday 9:00–9:59 (Paris): six served visits, waits 2, 4, 6, 8, 10, 30 min (cell mean 10.0).
Wednesday 14:00–14:59: three served (1, 2, 3 min) and one walk-out (cell mean hidden, 3 < 5).
All served waits sorted: 1 2 2 3 4 6 8 10 30 → mean 66/9 = 7.33, median 4, p90 (rank
ceil(8.1) = 9) 30, max 30, within 10 min 8/9 = 88.9 %, walk-outs 1/(9+1) = 10 %.
Answers linked to a visit: the five waits under 5 min → 4 satisfied, 1 dissatisfied (80 %);
the 30-min wait → very dissatisfied (1 answer: hidden).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from qualivilles.protocol import RecordIn, RecordKind
from sync_server.storage import Source, Storage, uploads
from tests.fixtures.server import SERVICE, SITE, answer_payload, make_record

PARIS = ZoneInfo("Europe/Paris")
TUESDAY_WAITS = [2, 4, 6, 8, 10, 30]
WEDNESDAY_WAITS = [1, 2, 3]
LINKED = {1: "satisfied", 2: "very_satisfied", 3: "satisfied", 4: "dissatisfied", 30:
          "very_dissatisfied"}  # fmt: skip
SECOND_TWO = "satisfied"  # the other 2-minute visit's answer


def first_weekday(month_start: date, weekday: int) -> date:
    return month_start + timedelta(days=(weekday - month_start.weekday()) % 7)


def _visit(visit_id: str, arrived: datetime, event: str, wait_minutes: float) -> list[RecordIn]:
    end = arrived + timedelta(minutes=wait_minutes)
    return [
        make_record({"visit_id": visit_id, "event": "arrived"}, RecordKind.VISIT_EVENT, arrived),
        make_record(
            {"visit_id": visit_id, "event": event, "wait_seconds": wait_minutes * 60.0},
            RecordKind.VISIT_EVENT,
            end,
        ),
    ]


def fill_month(
    storage: Storage, month_start: date, site: str = SITE, service: str = SERVICE
) -> None:
    """Ingest the hand-computed month above at (site, service), through the real ingestion."""
    tuesday = first_weekday(month_start, 1)
    wednesday = first_weekday(month_start, 2)
    records, answers = [], []
    linked_two = 0
    plan = [(tuesday, 9, m, "taken_in_charge") for m in TUESDAY_WAITS]
    plan += [(wednesday, 14, m, "taken_in_charge") for m in WEDNESDAY_WAITS]
    plan.append((wednesday, 14, 6, "walked_out"))
    for index, (day, hour, minutes, event) in enumerate(plan):
        arrived = datetime(day.year, day.month, day.day, hour, 5 * index, tzinfo=PARIS)
        visit_id = str(uuid.uuid4())
        records += _visit(visit_id, arrived, event, minutes)
        if event != "taken_in_charge":
            continue
        choice = LINKED.get(minutes)
        if minutes == 2:
            choice = LINKED[2] if linked_two == 0 else SECOND_TWO
            linked_two += 1
        if choice:
            payload = answer_payload(choice, channel="phone", visit_id=visit_id)
            answers.append(make_record(payload, at=arrived + timedelta(minutes=minutes + 5)))
    source = Source(site=site, service=service, channel="tablet")
    uploads.store_batch(storage, records, source)
    uploads.store_batch(storage, answers, Source(site=site, service=service, channel="phone"))
