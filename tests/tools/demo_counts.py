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
