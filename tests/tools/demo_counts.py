"""Figures counted straight from the demo generator's records, independently of the indicator
code, for the pages to be checked against."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from qualivilles.protocol import RecordKind
from sync_server.demo.data import DemoData

PARIS = ZoneInfo("Europe/Paris")


def expected_rate(
    data: DemoData, site: str, service: str, first: date, last: date
) -> tuple[int, int]:
    """(satisfied, expressed) on the main question from `first` to `last` local days included,
    counted from the raw records."""
    satisfied = expressed = 0
    for batch in data.batches:
        if (batch.site, batch.service) != (site, service):
            continue
        for record in batch.records:
            day = record.device_time.astimezone(PARIS).date()
            if record.kind != RecordKind.ANSWER or not first <= day <= last:
                continue
            payload = record.payload
            choice = payload["answers"].get("overall")
            if payload.get("suspect") or choice in (None, "no_opinion"):
                continue
            expressed += 1
            satisfied += choice in ("satisfied", "very_satisfied")
    return satisfied, expressed


def linked_answers(data: DemoData) -> list[tuple[tuple[str, str], float, str]]:
    """(desk, measured wait in seconds, main answer) of every answer given through a served
    visit's own link, matched with that visit in the raw records."""
    waits: dict[str, tuple[tuple[str, str], float]] = {}
    for batch in data.batches:
        for record in batch.records:
            payload = record.payload
            if record.kind == RecordKind.VISIT_EVENT and payload["event"] == "taken_in_charge":
                waits[payload["visit_id"]] = ((batch.site, batch.service), payload["wait_seconds"])
    found = []
    for record in data.records:
        visit_id = record.payload.get("visit_id")
        if record.kind == RecordKind.ANSWER and visit_id is not None:
            desk, wait = waits[visit_id]
            found.append((desk, wait, record.payload["answers"]["overall"]))
    return found
