"""Waiting-time indicators: pure formulas on hand-computed examples, then through storage."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from qualivilles.protocol import RecordKind
from sync_server.indicators import monthly, waits
from sync_server.indicators.waits import VisitFact
from sync_server.storage import Source, uploads
from tests.fixtures.server import SERVICE, SITE, TOWN, answer_payload, make_record

PARIS = ZoneInfo("Europe/Paris")
TABLET = Source(site=SITE, service=SERVICE, channel="tablet", device_id=None)
PHONE = Source(site=SITE, service=SERVICE, channel="phone")


def test_nearest_rank_percentile():
    assert waits.percentile(list(range(1, 11)), 90) == 9
    assert waits.percentile([5, 1, 4, 2, 3], 90) == 5
    assert waits.percentile([7.0], 90) == 7.0
    assert waits.percentile([], 90) is None
    assert waits.percentile([1, 2], 50) == 1


def test_wait_figures_hand_computed_with_unknown_outcomes_excluded():
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    served_minutes = [2, 4, 6, 8, 30]
    visits = [VisitFact(at, "served", m * 60.0) for m in served_minutes]
    visits += [
        VisitFact(at, "walked_out", 600.0),
        VisitFact(at, "unknown", 5000.0),
        VisitFact(at, "waiting", None),
    ]
    figures = waits.wait_figures(visits, threshold_minutes=7, min_n=5)
    assert figures["visits"].value == 8
    assert figures["unknown_outcomes"].value == 1
    assert figures["p90_wait_minutes"].value == 30  # rank ceil(4.5) = 5th of 5
    assert figures["max_wait_minutes"].value == 30  # the unknown's 5000 s is not a wait
    assert figures["within_threshold_rate"].value == pytest.approx(60.0)  # 2, 4, 6 of 5
    assert figures["wait_threshold_minutes"].value == 7
    assert figures["walk_out_rate"].value == pytest.approx(100 / 6)  # 1 of 5 served + 1
    fewer = waits.wait_figures(visits[:4], threshold_minutes=7, min_n=5)
    assert fewer["within_threshold_rate"].hidden
    assert fewer["within_threshold_rate"].reason == "below_min_n"
    assert fewer["walk_out_rate"].reason == "below_min_n"


def test_satisfaction_by_waiting_band():
    # (wait seconds, level, levels) on the 4-level scale: 2 and 3 are satisfied.
    linked = [(60, 3, 4), (290, 2, 4), (299.9, 0, 4), (300, 3, 4), (1300, 0, 4), (1200, 1, 4)]
    assert waits.satisfaction_by_band(linked) == {
        "0_5": (2, 3),
        "5_10": (1, 1),
        "10_20": (0, 0),
        "20_plus": (0, 2),
    }
    figures = waits.wait_figures([], 10, min_n=1, linked=linked)
    assert figures["satisfaction_rate_wait_0_5"].value == pytest.approx(200 / 3)
    assert figures["satisfaction_rate_wait_10_20"].reason == "no_data"


def test_hour_by_weekday_uses_local_arrival_time():
    monday_9_utc = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)  # 09:15 in Paris
    sunday_late = datetime(2026, 3, 1, 22, 50, tzinfo=UTC)  # Sunday 23:50 in Paris
    visits = [
        VisitFact(monday_9_utc, "served", 120.0),
        VisitFact(monday_9_utc, "served", 240.0),
        VisitFact(sunday_late, "served", 1800.0),
        VisitFact(monday_9_utc, "walked_out", 9),
    ]
    grid = waits.by_hour_and_weekday(visits, PARIS, min_n=2)
    assert grid == [
        {"weekday": "mon", "hour": 9, "arrivals": 3, "mean_wait_minutes": 3.0, "waits": 2},
        {"weekday": "sun", "hour": 23, "arrivals": 1, "mean_wait_minutes": None, "waits": 1},
    ]


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

    rows = monthly.compute(
        server_storage,
        date(2026, 3, 1),
        date(2026, 4, 1),
        min_answers=5,
        target=90,
        sites=[SITE],
        services=[SERVICE],
    )
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
    grid = {(c["weekday"], c["hour"]): c for c in by_period["2026-03"].waits_by_hour}
    assert grid["tue", 23]["arrivals"] == 1
    assert grid["tue", 10]["arrivals"] == 7
    assert by_period["2026-04"].figures["visits"].value == 0
    with_low_min = monthly.compute(
        server_storage,
        date(2026, 3, 1),
        date(2026, 3, 1),
        min_answers=1,
        target=90,
        sites=[SITE],
        services=[SERVICE],
    )
    assert with_low_min[0].figures["satisfaction_rate_wait_0_5"].value == 100.0
    assert with_low_min[0].figures["satisfaction_rate_wait_10_20"].value == 0.0
