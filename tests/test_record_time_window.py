"""Capture times within a window, clock offsets within a bound, query parameters within range.

A record whose capture time (after clock correction) falls outside the window around the
server's clock and the device's enrolment is refused alone (`time_out_of_range`); an absurd
offset is an unknown clock, not a correction; stored absurd times never break a read.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from qualivilles.protocol import canonical_json
from sync_server import clock
from sync_server.app import create_app
from sync_server.storage import devices, schema
from tests.fixtures.server import (
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

DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# The pure rules ---------------------------------------------------------------------------------


def test_an_offset_beyond_the_bound_is_an_unknown_clock():
    bound = 30 * 86_400_000
    assert clock.trusted_offset(86_400_000, bound) == 86_400_000
    assert clock.trusted_offset(-bound, bound) == -bound
    assert clock.trusted_offset(bound + 1, bound) is None
    assert clock.trusted_offset(-(bound + 1), bound) is None
    assert clock.trusted_offset(None, bound) is None


def test_an_absurd_envelope_time_gives_an_unknown_offset_not_an_error():
    for sent_at in (
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
    ):
        offset = clock.offset_ms(sent_at, NOW)
        assert clock.trusted_offset(offset, 30 * 86_400_000) is None


def test_correction_never_overflows_at_the_edges_of_the_calendar():
    edge = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    assert clock.corrected(edge, 86_400_000, 120_000) == edge
    first = datetime(1, 1, 1, tzinfo=UTC)
    assert clock.corrected(first, -86_400_000, 120_000) == first


def test_the_window_around_the_server_clock_and_the_enrolment():
    enrolled = NOW - 10 * DAY
    window = clock.Window.around(
        NOW, enrolled_at=enrolled, ahead=timedelta(minutes=10), before_enrolment=DAY, max_age=DAY
    )
    assert window.earliest == enrolled - DAY
    assert window.latest == NOW + timedelta(minutes=10)
    assert window.holds(NOW)
    assert window.holds(enrolled - DAY)
    assert not window.holds(enrolled - DAY - MINUTE)
    assert not window.holds(NOW + timedelta(minutes=11))
    assert not window.holds(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC))
    assert not window.holds(datetime(1, 1, 1, tzinfo=UTC))
    # No enrolment (the phone survey): the server's clock minus the maximum age.
    phone = clock.Window.around(
        NOW, enrolled_at=None, ahead=timedelta(minutes=10), before_enrolment=DAY, max_age=DAY
    )
    assert phone.earliest == NOW - DAY
    assert phone.holds(NOW - DAY + MINUTE)
    assert not phone.holds(NOW - DAY - MINUTE)


# On the real app -------------------------------------------------------------------------------


@pytest.fixture
def token(app_client) -> str:
    return enrolled_token(app_client)


def send(client, token, *records, sent_at=None):
    body = sync_body(*records, sent_at=sent_at)
    return client.post("/api/v1/sync", json=body, headers=bearer(token))


def acks_of(response) -> dict[str, tuple[str, str | None]]:
    assert response.status_code == 200, response.text
    return {ack["id"]: (ack["status"], ack.get("code")) for ack in response.json()["acknowledged"]}


def assert_reads_succeed(client) -> None:
    log_in_client(client, "qualite")
    assert client.get("/api/v1/indicators").status_code == 200
    assert client.get("/api/v1/health").status_code in (200, 401, 403)


@pytest.mark.parametrize(
    "at",
    [
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC).replace(tzinfo=None).isoformat() + "+05:00",
        "9999-12-31T23:59:59-05:00",
    ],
)
def test_an_absurd_capture_time_is_refused_alone(app_client, server_storage, token, at):
    good = make_record(answer_payload())
    bad = make_record(answer_payload("dissatisfied"))
    body = sync_body(good, bad)
    body["records"][1]["device_time"] = at if isinstance(at, str) else at.isoformat()
    response = app_client.post("/api/v1/sync", json=body, headers=bearer(token))
    acks = acks_of(response)
    assert acks[str(good.id)] == ("stored", None)
    assert acks[str(bad.id)] == ("rejected", "time_out_of_range")
    assert [str(good.id)] == [id_ for (id_,) in stored_rows(server_storage, "records", "id")]
    assert_reads_succeed(app_client)
    assert app_client.get("/api/v1/config", headers=bearer(token)).status_code == 200


def test_a_time_in_the_future_beyond_the_allowance_is_refused(app_client, token):
    now = datetime.now(UTC)
    soon = make_record(answer_payload(), at=now + timedelta(minutes=2))
    later = make_record(answer_payload(), at=now + timedelta(hours=1))
    acks = acks_of(send(app_client, token, soon, later))
    assert acks[str(soon.id)] == ("stored", None)
    assert acks[str(later.id)] == ("rejected", "time_out_of_range")


def test_a_device_enrolled_today_cannot_store_answers_dated_a_year_ago(
    app_client, server_storage, token
):
    now = datetime.now(UTC)
    old = make_record(answer_payload(), at=now - 365 * DAY)
    today = make_record(answer_payload(), at=now - timedelta(hours=1))
    acks = acks_of(send(app_client, token, old, today))
    assert acks[str(old.id)] == ("rejected", "time_out_of_range")
    assert acks[str(today.id)] == ("stored", None)
    assert stored_rows(server_storage, "records", "id") == [(str(today.id),)]


def test_an_envelope_from_1970_is_an_unknown_clock_not_a_correction(
    app_client, server_storage, token
):
    now = datetime.now(UTC)
    record = make_record(answer_payload(), at=now - MINUTE)
    acks = acks_of(send(app_client, token, record, sent_at=datetime(1970, 1, 1, tzinfo=UTC)))
    assert acks[str(record.id)] == ("stored", None)
    [(captured,)] = stored_rows(server_storage, "records", "captured_at")
    assert captured == now - MINUTE  # not 2083: the absurd offset is not applied
    with server_storage.read() as connection:
        device = devices.by_token(connection, token)
    assert device.drifting  # flagged all the same


def test_an_unknown_clock_still_needs_times_within_the_window(app_client, token):
    # The device's clock says 1970 for the capture and the sending: no trusted correction, and
    # the record's own time is long before its enrolment.
    record = make_record(answer_payload(), at=datetime(1970, 1, 1, tzinfo=UTC) - MINUTE)
    acks = acks_of(send(app_client, token, record, sent_at=datetime(1970, 1, 1, tzinfo=UTC)))
    assert acks[str(record.id)] == ("rejected", "time_out_of_range")


@pytest.mark.parametrize("sent_at", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_an_absurd_envelope_time_is_never_a_server_error(
    app_client, server_storage, token, sent_at
):
    record = make_record(answer_payload(), at=datetime.now(UTC) - MINUTE)
    body = sync_body(record)
    body["sent_at"] = sent_at
    response = app_client.post("/api/v1/sync", json=body, headers=bearer(token))
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        assert acks_of(response)[str(record.id)] == ("stored", None)
    assert_reads_succeed(app_client)


def test_a_trusted_correction_is_still_applied(app_client, server_storage, token):
    now = datetime.now(UTC)
    record = make_record(answer_payload(), at=now - 2 * DAY)
    acks = acks_of(send(app_client, token, record, sent_at=now - 2 * DAY))
    assert acks[str(record.id)] == ("stored", None)
    [(captured,)] = stored_rows(server_storage, "records", "captured_at")
    assert abs(captured - now) < timedelta(seconds=30)


def test_the_bounds_are_settings(tmp_path):
    from tests.fixtures.server import open_town_storage, server_settings_for

    settings = server_settings_for(
        tmp_path, record_time_ahead_seconds=7200, max_clock_offset_days=1
    )
    storage = open_town_storage(settings)
    with TestClient(create_app(settings, storage)) as client:
        token = enrolled_token(client)
        now = datetime.now(UTC)
        ahead = make_record(answer_payload(), at=now + timedelta(hours=1))
        assert acks_of(send(client, token, ahead))[str(ahead.id)] == ("stored", None)
        # Two days off is beyond a one-day bound: not corrected.
        record = make_record(answer_payload(), at=now - MINUTE)
        assert acks_of(send(client, token, record, sent_at=now - 2 * DAY))[str(record.id)] == (
            "stored",
            None,
        )
        rows = dict(stored_rows(storage, "records", "id", "captured_at"))
        assert rows[str(record.id)] == now - MINUTE
    storage.close()


# Stored data never breaks a read ---------------------------------------------------------------


def test_an_absurd_time_already_stored_breaks_no_read_nor_start_up(
    server_settings, server_storage, app_client
):
    """A row written before the window existed: the reads and a restart still succeed."""
    token = enrolled_token(app_client)
    with server_storage.read() as connection:
        device = devices.by_token(connection, token)
    good = make_record(answer_payload(), at=datetime.now(UTC) - MINUTE)
    assert acks_of(send(app_client, token, good))[str(good.id)] == ("stored", None)
    absurd = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    payload = answer_payload("dissatisfied")
    record = make_record(payload, at=absurd)
    with server_storage.write() as connection:
        seq = connection.scalar(sa.select(sa.func.max(schema.records.c.seq))) + 1
        connection.execute(
            schema.records.insert().values(
                id=str(record.id),
                payload_hash=record.payload_hash,
                payload=canonical_json(payload),
                device_time=absurd,
                monotonic_ms=1000,
                kind="answer",
                captured_at=absurd,
                seq=seq,
                device_id=device.id,
                site=SITE,
                service=SERVICE,
                received_at=datetime.now(UTC),
            )
        )
    assert_reads_succeed(app_client)
    assert app_client.get("/api/v1/config", headers=bearer(token)).status_code == 200
    # A restart on that database.
    with TestClient(create_app(server_settings, server_storage)) as restarted:
        assert_reads_succeed(restarted)
        assert restarted.get("/api/v1/config", headers=bearer(token)).status_code == 200


# Query parameters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["from=0000-01", "from=0001-01", "to=9999-12", "from=1999-12&to=2000-02", "to=2101-01"],
)
def test_months_out_of_range_are_a_422_problem(app_client, query):
    log_in_client(app_client, "qualite")
    response = app_client.get(f"/api/v1/indicators?{query}")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_months_at_the_edges_of_the_range_are_answered(app_client):
    log_in_client(app_client, "qualite")
    assert app_client.get("/api/v1/indicators?from=2000-01&to=2000-03").status_code == 200
    assert app_client.get("/api/v1/indicators?from=2100-10&to=2100-12").status_code == 200


def test_an_enormous_survey_version_is_a_404_page(app_client):
    log_in_client(app_client, "admin", role="admin")
    for version in ("99999999999999999999", str(2**63), "-99999999999999999999"):
        page = app_client.get(f"/admin/surveys/{uuid.uuid4().hex}/{version}")
        assert page.status_code == 404, (version, page.status_code)
        json_page = app_client.get(f"/admin/surveys/x/{version}/definition.json")
        assert json_page.status_code == 404
