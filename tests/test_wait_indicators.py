"""Waiting-time indicators through storage and the pipeline's months (the pure formulas are
tested in test_indicator_formulas and test_indicator_figures)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from qualivilles.protocol import RecordKind
from sync_server.indicators import periods, pipeline
from sync_server.indicators.query import WAITS, IndicatorQuery, Rules, Scope
from sync_server.storage import Source, uploads
from tests.fixtures.server import SERVICE, SITE, TOWN, answer_payload, make_record

PARIS = ZoneInfo("Europe/Paris")
TABLET = Source(site=SITE, service=SERVICE, channel="tablet", device_id=None)
PHONE = Source(site=SITE, service=SERVICE, channel="phone")


def _events(visit_id, arrived, end_event=None, end=None, **extra):
    records = [
        make_record({"visit_id": visit_id, "event": "arrived"}, RecordKind.VISIT_EVENT, arrived)
    ]
    if end_event:
        records.append(
            make_record(
                {"visit_id": visit_id, "event": end_event, **extra}, RecordKind.VISIT_EVENT, end
            )
        )
    return records


def test_monthly_figures_count_a_wait_across_midnight_in_its_arrival_month(server_storage):
    threshold = next(s for s in TOWN["services"] if s["slug"] == SERVICE).get(
        "wait_threshold_minutes", 15
    )
    # 31 March 23:40 Paris, served 00:20 on 1 April: a 40-minute March wait.
    late = datetime(2026, 3, 31, 23, 40, tzinfo=PARIS)
    records = _events(str(uuid.uuid4()), late, "taken_in_charge", late + timedelta(minutes=40))
    march = [3, 5, 8, threshold, threshold + 1]
    day = datetime(2026, 3, 10, 10, 0, tzinfo=PARIS)
    visit_ids = []
    for minutes in march:
        visit_ids.append(str(uuid.uuid4()))
        records += _events(
            visit_ids[-1],
            day,
            "taken_in_charge",
            day + timedelta(minutes=1),
            wait_seconds=minutes * 60.0,
        )
    records += _events(str(uuid.uuid4()), day, "closed_unknown", day + timedelta(hours=8))
    records += _events(str(uuid.uuid4()), day, "walked_out", day + timedelta(minutes=3))
    cancelled = str(uuid.uuid4())
    records += _events(cancelled, day, "cancelled", day + timedelta(seconds=3))
    uploads.store_batch(server_storage, records, TABLET)
    # Answers linked to two of the visits (a phone answer after a per-visit QR code).
    uploads.store_batch(
        server_storage,
        [
            make_record(
                answer_payload("very_satisfied", channel="phone", visit_id=visit_ids[0]),
                at=day + timedelta(hours=1),
            ),
            make_record(
                answer_payload("dissatisfied", channel="phone", visit_id=visit_ids[4]),
                at=day + timedelta(hours=1),
            ),
        ],
        PHONE,
    )

    scope = Scope.of([SITE], [SERVICE])
    april = periods.parse("month", "2026-04")
    rows = pipeline.compute_months(server_storage, IndicatorQuery(april, scope, parts=WAITS), 2)
    by_period = {row.period: row for row in rows}
    figures = by_period["2026-03"].figures
    all_waits = sorted([*march, 40])
    assert figures["visits"].value == 8  # 6 served, 1 unknown, 1 walk-out; cancelled is not
    assert figures["unknown_outcomes"].value == 1
    assert figures["median_wait_minutes"].value == pytest.approx((all_waits[2] + all_waits[3]) / 2)
    assert figures["max_wait_minutes"].value == pytest.approx(40)
    assert figures["p90_wait_minutes"].value == pytest.approx(40)  # rank ceil(5.4) = 6th
    assert figures["within_threshold_rate"].value == pytest.approx(100 * 4 / 6)
    assert figures["walk_out_rate"].value == pytest.approx(100 / 7)
    assert figures["satisfaction_rate_wait_0_5"].n == 1  # below min N: hidden
    assert figures["satisfaction_rate_wait_0_5"].hidden
    grid = {(c.weekday, c.hour): dataclasses.asdict(c) for c in by_period["2026-03"].cells}
    assert grid["tue", 23]["arrivals"] == 1
    assert grid["tue", 10]["arrivals"] == 7
    assert by_period["2026-04"].figures["visits"].value == 0
    one_month = periods.parse("month", "2026-03")
    with_low_min = pipeline.compute(
        server_storage, IndicatorQuery(one_month, scope, Rules(min_answers=1), WAITS)
    )
    assert with_low_min[0].figures["satisfaction_rate_wait_0_5"].value == 100.0
    assert with_low_min[0].figures["satisfaction_rate_wait_10_20"].value == 0.0
