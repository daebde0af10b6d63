"""Drifting device clocks: the correction rule (with properties) and its effect on the figures."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qualivilles.protocol import RecordKind
from sync_server import clock
from sync_server.indicators.periods import add_months, current_month, month_bounds
from sync_server.storage import devices
from tests.fixtures.server import (
    LONG_AGO,
    SERVICE,
    SITE,
    answer_payload,
    bearer,
    enrolled_token,
    log_in_client,
    make_record,
    sync_body,
)
from tests.tools.server_reads import stored_rows

PARIS = ZoneInfo("Europe/Paris")
MAX_DRIFT_MS = 120_000
DAY = timedelta(days=1)

times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
offsets = st.none() | st.integers(min_value=-400 * 86_400_000, max_value=400 * 86_400_000)
bounds = st.integers(min_value=1, max_value=3_600_000)


@given(times, offsets, bounds)
def test_a_clock_within_bounds_is_left_alone(device_time, offset, max_drift):
    if not clock.is_drifting(offset, max_drift):
        assert clock.corrected(device_time, offset, max_drift) == device_time


@given(times, offsets, bounds)
def test_a_drifting_clock_is_shifted_by_exactly_its_offset(device_time, offset, max_drift):
    fixed = clock.corrected(device_time, offset, max_drift)
    if clock.is_drifting(offset, max_drift):
        assert offset is not None
        assert fixed - device_time == timedelta(milliseconds=offset)
    # Never moved further than the offset says.
    assert abs(fixed - device_time) <= timedelta(milliseconds=abs(offset or 0))


@given(times, times, offsets, bounds)
def test_correction_keeps_the_capture_order_of_a_batch(a, b, offset, max_drift):
    # One offset per batch: records keep their order, and their spacing.
    assert (clock.corrected(a, offset, max_drift) <= clock.corrected(b, offset, max_drift)) == (
        a <= b
    )
    assert clock.corrected(b, offset, max_drift) - clock.corrected(a, offset, max_drift) == b - a


@given(st.integers(min_value=-(10**12), max_value=10**12), bounds)
def test_drift_is_symmetric(offset, max_drift):
    assert clock.is_drifting(offset, max_drift) == clock.is_drifting(-offset, max_drift)
    assert clock.is_drifting(offset, max_drift) == (abs(offset) > max_drift)


def test_offset_is_server_minus_device():
    received = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert clock.offset_ms(received - DAY, received) == 86_400_000
    assert clock.offset_ms(received + timedelta(seconds=3), received) == -3000
    assert clock.offset_ms(datetime(2026, 3, 2, 9, 0), received) is None  # no time zone


# On the real app -------------------------------------------------------------------------------


def upload(client, token, *records, sent_at: datetime) -> None:
    body = sync_body(*records, sent_at=sent_at)
    response = client.post("/api/v1/sync", json=body, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert {ack["status"] for ack in response.json()["acknowledged"]} == {"stored"}


@pytest.fixture
def token(app_client) -> str:
    # Enrolled long ago: the tests upload records captured on fixed past dates.
    return enrolled_token(app_client, enrolled_at=LONG_AGO)


def test_a_device_one_day_behind_is_counted_in_the_right_month_and_day(
    app_client, server_storage, token
):
    # Visitors answered on the 1st of last month at 10:00 Paris time; the device believed it
    # was the last day of the month before.
    month = add_months(current_month(datetime.now(UTC), PARIS), -1)
    true_time = month_bounds(month, PARIS)[0] + timedelta(hours=10)
    device_time = true_time - DAY
    choices = ["very_satisfied", "satisfied", "satisfied", "dissatisfied", "satisfied"]
    records = [
        make_record(answer_payload(choice), at=device_time + timedelta(minutes=i))
        for i, choice in enumerate(choices)
    ]
    upload(app_client, token, *records, sent_at=datetime.now(UTC) - DAY)

    captured = sorted(at for (at,) in stored_rows(server_storage, "answers", "captured_at"))
    for i, at in enumerate(captured):
        assert abs(at - (true_time + timedelta(minutes=i))) < timedelta(seconds=30)
        assert at.astimezone(PARIS).date() == true_time.astimezone(PARIS).date()
    # The record log keeps what the device said.
    sent = sorted(at for (at,) in stored_rows(server_storage, "records", "device_time"))
    assert sent == [device_time + timedelta(minutes=i) for i in range(5)]

    log_in_client(app_client, "qualite")
    label = f"{month:%Y-%m}"
    before = f"{add_months(month, -1):%Y-%m}"
    query = f"from={before}&to={label}&site={SITE}&service={SERVICE}"
    body = app_client.get(f"/api/v1/indicators?{query}").json()
    by_period = {row["period"]: row["figures"]["answers"]["value"] for row in body["rows"]}
    assert by_period.get(label) == 5
    assert by_period.get(before) in (None, 0)


def test_visit_times_are_corrected_too(app_client, server_storage):
    token = enrolled_token(app_client, mode="tablet", enrolled_at=LONG_AGO)
    arrival = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    visit_id = str(uuid.uuid4())
    records = [
        make_record({"visit_id": visit_id, "event": "arrived"}, RecordKind.VISIT_EVENT, arrival),
        make_record(
            {"visit_id": visit_id, "event": "taken_in_charge"},
            RecordKind.VISIT_EVENT,
            arrival + timedelta(minutes=6),
        ),
    ]
    upload(app_client, token, *records, sent_at=datetime.now(UTC) - DAY)
    [(arrived_at, wait)] = stored_rows(server_storage, "visits", "arrived_at", "wait_seconds")
    assert abs(arrived_at - (arrival + DAY)) < timedelta(seconds=30)
    assert wait == 360.0  # one shift for the whole batch: the wait is unchanged


def test_a_small_offset_is_not_corrected(app_client, server_storage, token):
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    upload(app_client, token, make_record(answer_payload(), at=at), sent_at=datetime.now(UTC))
    assert stored_rows(server_storage, "answers", "captured_at") == [(at,)]


def test_the_device_is_flagged_while_drifting_and_unflagged_when_back(app_client, token):
    storage = app_client.app.state.storage
    with storage.read() as connection:
        device_id = devices.by_token(connection, token).id
    late = datetime.now(UTC) - DAY  # the device's clock, a day behind
    upload(app_client, token, make_record(answer_payload(), at=late), sent_at=late)
    with storage.read() as connection:
        first = devices.get(connection, device_id)
    assert first.drifting
    assert first.clock_drift_ms == pytest.approx(86_400_000, abs=30_000)
    since = first.clock_drift_since

    # Still wrong, by another amount: the offset is updated, the flag keeps its start.
    later = datetime.now(UTC) - 2 * DAY
    upload(app_client, token, make_record(answer_payload(), at=later), sent_at=later)
    with storage.read() as connection:
        second = devices.get(connection, device_id)
    assert second.clock_drift_since == since
    assert second.clock_drift_ms == pytest.approx(2 * 86_400_000, abs=30_000)

    # Set right again (within the 120 s allowed): unflagged.
    upload(app_client, token, make_record(answer_payload()), sent_at=datetime.now(UTC))
    with storage.read() as connection:
        back = devices.get(connection, device_id)
    assert not back.drifting
    assert (back.clock_drift_ms, back.clock_drift_since) == (None, None)
    assert abs(back.clock_offset_ms) < 30_000


def test_the_allowed_drift_is_a_setting(tmp_path):
    from fastapi.testclient import TestClient

    from sync_server.app import create_app
    from tests.fixtures.server import open_town_storage, server_settings_for

    settings = server_settings_for(tmp_path, max_clock_drift_seconds=3600)
    storage = open_town_storage(settings)
    with TestClient(create_app(settings, storage)) as client:
        token = enrolled_token(client, enrolled_at=LONG_AGO)
        at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        sent_at = datetime.now(UTC) - timedelta(minutes=30)  # 30 min slow: within one hour
        upload(client, token, make_record(answer_payload(), at=at), sent_at=sent_at)
        assert stored_rows(storage, "answers", "captured_at") == [(at,)]
        with storage.read() as connection:
            assert not devices.by_token(connection, token).drifting
    storage.close()
