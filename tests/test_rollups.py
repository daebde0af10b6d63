"""The daily rollups are exactly the raw answers counted per local day: for any answers, batches
and whole-day periods (across both DST changes and around local midnight), a read of the rollups
equals the same read of the answers; a change of the town's time zone rebuilds them."""

from __future__ import annotations

import shutil
import uuid
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from sync_server.storage import (
    Source,
    Storage,
    counts,
    db,
    migrations,
    projection,
    rollups,
    town,
    uploads,
)
from tests.fixtures.server import TOWN, answer_payload, make_record

PARIS = ZoneInfo("Europe/Paris")
CAYENNE = ZoneInfo("America/Cayenne")
DESKS = [
    ("centre-administratif", "iris"),
    ("centre-administratif", "education"),
    ("hotel-de-ville", "etat-civil"),
]
# Local days around the two DST changes of 2025 in Paris (30 March, 26 October).
DAYS = [date(2025, 3, 29), date(2025, 3, 30), date(2025, 3, 31)]
DAYS += [date(2025, 10, 25), date(2025, 10, 26), date(2025, 10, 27)]
MIDNIGHTS = sorted({*DAYS, *(day + timedelta(1) for day in DAYS)})
SMILEY = ["very_dissatisfied", "dissatisfied", "satisfied", "very_satisfied", "no_opinion"]
UNHAPPY = ["waiting", "welcome", "answer", "premises", "opening_hours", "other"]
MICROSECOND = timedelta(microseconds=1)


def midnight(day: date, zone: ZoneInfo = PARIS) -> datetime:
    """Local midnight as a UTC instant (arithmetic on it is then in real time)."""
    return datetime.combine(day, time(0), zone).astimezone(UTC)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A migrated database with the demo town, copied for each example (migrating is slow)."""
    path = tmp_path_factory.mktemp("rollups") / "template.db"
    storage = Storage.from_url(f"sqlite:///{path}")
    migrations.upgrade(storage)
    with storage.write() as connection:
        town.load_town(connection, TOWN)
    storage.close()
    return path


def open_copy(template: Path, timezone: str = "Europe/Paris") -> Storage:
    path = template.with_name(f"{uuid.uuid4().hex}.db")
    shutil.copyfile(template, path)
    return Storage.from_url(f"sqlite:///{path}", timezone)


# -- the property ---------------------------------------------------------------------------------

offsets = st.one_of(
    # Right at, just before and just after local midnight…
    st.sampled_from([-MICROSECOND, timedelta(0), MICROSECOND, timedelta(seconds=-1)]),
    # …or anywhere in the day, the DST hour included, spilling over to the next and previous day.
    st.integers(-3 * 3600, 27 * 3600).map(lambda s: timedelta(seconds=s)),
)
follow_ups = st.fixed_dictionaries(
    {},
    optional={
        "why_unhappy": st.lists(st.sampled_from(UNHAPPY), min_size=1, max_size=3, unique=True),
        "welcome": st.sampled_from(SMILEY),
        "wait_band": st.sampled_from(["lt5", "5to15", "15to30", "gt30"]),
    },
)
answer_specs = st.fixed_dictionaries(
    {
        "desk": st.sampled_from(DESKS),
        "at": st.tuples(st.sampled_from(DAYS), offsets).map(lambda t: midnight(t[0]) + t[1]),
        "overall": st.none() | st.sampled_from(SMILEY),  # None: main question left unanswered
        "items": follow_ups,
        "status": st.sampled_from(["complete", "partial"]),
        "suspect": st.booleans(),
        "version": st.sampled_from([1, 2]),
    }
)
# Each batch: its answers, whether it is projected in the same transaction, whether it is
# uploaded a second time (a retry: duplicates only).
batches = st.lists(
    st.tuples(st.lists(answer_specs, max_size=8), st.booleans(), st.booleans()),
    min_size=1,
    max_size=5,
)
periods = st.lists(
    st.tuples(st.sampled_from(MIDNIGHTS), st.sampled_from(MIDNIGHTS)).map(sorted),
    min_size=1,
    max_size=4,
)
filters = st.fixed_dictionaries(
    {
        "sites": st.none() | st.lists(st.sampled_from(sorted({s for s, _ in DESKS})), unique=True),
        "services": st.none()
        | st.lists(st.sampled_from(sorted({v for _, v in DESKS})), unique=True),
        "include_suspect": st.booleans(),
    }
)


def record_for(spec: dict[str, Any]):
    answers = {**spec["items"]}
    if spec["overall"] is not None:
        answers["overall"] = spec["overall"]
    payload = answer_payload(
        None,
        answers=answers,
        status=spec["status"],
        suspect=spec["suspect"],
        survey_version=spec["version"],
    )
    return make_record(payload, at=spec["at"])


def ingest_batches(storage: Storage, plan) -> int:
    """Ingest the plan; the number of distinct answers stored."""
    stored = 0
    for specs, project, resend in plan:
        by_desk: dict[tuple[str, str], list] = {}
        for spec in specs:
            by_desk.setdefault(spec["desk"], []).append(record_for(spec))
        for (site, service), records in by_desk.items():
            source = Source(site=site, service=service, channel="kiosk")
            acks = uploads.store_batch(storage, records, source, project=project)
            assert [ack.status for ack in acks] == ["stored"] * len(records)
            stored += len(records)
            if resend:
                again = uploads.store_batch(storage, records, source, project=not project)
                assert [ack.status for ack in again] == ["duplicate"] * len(records)
    projection.catch_up(storage)  # what a batch left to the background projection
    return stored


def counted(rows) -> Counter:
    return Counter(rows)


@settings(max_examples=40, deadline=None)
@given(plan=batches, spans=periods, desk_filter=filters)
def test_rollup_reads_equal_raw_reads(template, plan, spans, desk_filter):
    storage = open_copy(template)
    try:
        stored = ingest_batches(storage, plan)
        sites, services = desk_filter["sites"], desk_filter["services"]
        include_suspect = desk_filter["include_suspect"]
        for first, stop in spans:
            start, end = midnight(first), midnight(stop)
            # Through Storage first: it catches up with batches that were only logged.
            with storage.read() as connection:
                zone = storage.zone
                through_storage = (
                    counted(
                        counts.main_level_counts(
                            connection,
                            zone,
                            start,
                            end,
                            sites=sites,
                            services=services,
                            include_suspect=include_suspect,
                        )
                    ),
                    counted(counts.answer_quality(connection, zone, start, end, services=services)),
                    counted(
                        counts.item_counts(
                            connection,
                            zone,
                            start,
                            end,
                            services=services,
                            include_suspect=include_suspect,
                        )
                    ),
                )
            span = rollups.day_span(start, end, PARIS)
            assert span == (first, stop)
            with db.read(storage.engine) as connection:
                from_rollups = (
                    counted(
                        rollups.main_level_counts(
                            connection,
                            span,
                            sites=sites,
                            services=services,
                            include_suspect=include_suspect,
                        )
                    ),
                    counted(rollups.answer_quality(connection, span, services=services)),
                    counted(
                        rollups.item_counts(
                            connection, span, services=services, include_suspect=include_suspect
                        )
                    ),
                )
                from_answers = (
                    counted(
                        counts.main_level_counts_from_answers(
                            connection,
                            start,
                            end,
                            sites=sites,
                            services=services,
                            include_suspect=include_suspect,
                        )
                    ),
                    counted(
                        counts.answer_quality_from_answers(
                            connection, start, end, services=services
                        )
                    ),
                    counted(
                        counts.item_counts_from_answers(
                            connection,
                            start,
                            end,
                            services=services,
                            include_suspect=include_suspect,
                        )
                    ),
                )
            assert from_rollups == from_answers
            assert through_storage == from_answers
        # Not vacuous: every answer is in the rollups, once.
        with storage.read() as connection:
            everything = counts.answer_quality(
                connection, storage.zone, midnight(date(2025, 3, 1)), midnight(date(2026, 1, 1))
            )
        assert sum(row.count for row in everything) == stored
    finally:
        storage.close()


def test_a_day_span_needs_local_midnights():
    start, end = midnight(date(2025, 3, 30)), midnight(date(2025, 3, 31))
    assert rollups.day_span(start, end, PARIS) == (date(2025, 3, 30), date(2025, 3, 31))
    assert end - start == timedelta(hours=23)  # the short day
    assert rollups.day_span(start + MICROSECOND, end, PARIS) is None
    assert rollups.day_span(start, end - timedelta(hours=1), PARIS) is None
    assert rollups.day_span(start, end, CAYENNE) is None


def test_a_partial_day_reads_the_answers(template):
    storage = open_copy(template)
    try:
        source = Source(site=DESKS[0][0], service=DESKS[0][1], channel="kiosk")
        day = midnight(date(2025, 3, 30))
        times = [day + timedelta(hours=9), day + timedelta(hours=15)]
        records = [make_record(answer_payload("satisfied"), at=at) for at in times]
        uploads.store_batch(storage, records, source)
        with storage.read() as connection:
            [row] = counts.main_level_counts(
                connection, storage.zone, day, day + timedelta(hours=12)
            )
            assert row.count == 1  # a rollup read would have counted the whole day
            [row] = counts.main_level_counts(
                connection, storage.zone, day, midnight(date(2025, 3, 31))
            )
            assert row.count == 2
    finally:
        storage.close()


# -- the town's time zone ------------------------------------------------------------------------


DAY_TOTALS = "SELECT day, sum(answers) FROM answer_days GROUP BY day ORDER BY day"


def day_of(storage: Storage, answer_id: str) -> str:
    with db.read(storage.engine) as connection:
        return connection.scalar(
            sa.text("SELECT day FROM answers WHERE id = :id"), {"id": answer_id}
        )


def test_a_new_time_zone_rebuilds_the_rollups(template):
    paris = open_copy(template)
    url = str(paris.engine.url)
    source = Source(site=DESKS[0][0], service=DESKS[0][1], channel="kiosk")
    # 01:30 in Paris on 15 January is 21:30 the day before in Cayenne (UTC-3).
    at = datetime(2025, 1, 15, 1, 30, tzinfo=PARIS)
    record = make_record(answer_payload("very_satisfied"), at=at)
    uploads.store_batch(paris, [record], source)
    assert day_of(paris, str(record.id)) == "2025-01-15"
    with db.read(paris.engine) as connection:
        assert rollups.built_for(connection) == "Europe/Paris"
    paris.close()

    cayenne = Storage.from_url(url, "America/Cayenne")
    migrations.upgrade(cayenne)
    try:
        with db.read(cayenne.engine) as connection:
            assert rollups.built_for(connection) == "America/Cayenne"
            rows = connection.execute(sa.text(DAY_TOTALS)).all()
        assert rows == [("2025-01-14", 1)]
        assert day_of(cayenne, str(record.id)) == "2025-01-14"
        the_14th = (midnight(date(2025, 1, 14), CAYENNE), midnight(date(2025, 1, 15), CAYENNE))
        the_15th = (midnight(date(2025, 1, 15), CAYENNE), midnight(date(2025, 1, 16), CAYENNE))
        assert rollups.day_span(*the_14th, CAYENNE) is not None  # the rollups are read
        with cayenne.read() as connection:
            in_14th = counts.main_level_counts(connection, cayenne.zone, *the_14th)
            assert [row.count for row in in_14th] == [1]
            assert counts.main_level_counts(connection, cayenne.zone, *the_15th) == []
        # Answers projected from now on count in Cayenne days too.
        late = make_record(answer_payload("satisfied"), at=datetime(2025, 1, 15, 2, 0, tzinfo=UTC))
        uploads.store_batch(cayenne, [late], source, project=False)
        projection.catch_up(cayenne)
        with cayenne.read() as connection:
            in_14th = counts.main_level_counts(connection, cayenne.zone, *the_14th)
        assert sum(row.count for row in in_14th) == 2
    finally:
        cayenne.close()

    back = Storage.from_url(url, "Europe/Paris")
    migrations.upgrade(back)
    try:
        with db.read(back.engine) as connection:
            assert rollups.built_for(connection) == "Europe/Paris"
            rows = connection.execute(sa.text(DAY_TOTALS)).all()
        assert rows == [("2025-01-15", 2)]
    finally:
        back.close()
