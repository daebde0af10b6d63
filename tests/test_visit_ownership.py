"""Visits belong to their desk: only the tablet that created a visit changes it, and an answer's
channel is the sending device's, whatever its payload claims."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from qualivilles.protocol import AckStatus, RecordKind
from tests.fixtures.server import answer_payload, enrolled_token, make_record
from tests.tools.server_reads import stored_rows
from tests.tools.sync_upload import upload

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


@pytest.fixture
def tablet(app_client) -> str:
    return enrolled_token(app_client, mode="tablet")


def _visit_record(event: str, visit_id: str, minutes: float = 0, **extra):
    payload = {"visit_id": visit_id, "event": event, **extra}
    return make_record(payload, kind=RecordKind.VISIT_EVENT, at=T0 + timedelta(minutes=minutes))


def _acks(response) -> list[tuple[str, str | None]]:
    return [(str(ack.status), ack.code) for ack in response.acknowledged]


def _arrived_visit(app_client, token: str) -> str:
    visit_id = str(uuid.uuid4())
    reply = upload(app_client, token, _visit_record("arrived", visit_id, ticket="A-001"))
    assert _acks(reply) == [(AckStatus.STORED, None)]
    return visit_id


def _outcome(server_storage) -> list[tuple[object, ...]]:
    return stored_rows(server_storage, "visits", "outcome", "wait_seconds")


def test_a_kiosk_visit_event_is_refused_alone_and_its_neighbours_stored(
    app_client, server_storage, tablet
):
    visit_id = _arrived_visit(app_client, tablet)
    kiosk = enrolled_token(app_client)
    answer = make_record(answer_payload(), at=T0)
    taken = _visit_record("taken_in_charge", visit_id, 3, wait_seconds=180.0)
    own_visit = _visit_record("arrived", str(uuid.uuid4()), 1, ticket="K-001")
    reply = upload(app_client, kiosk, answer, taken, own_visit)
    assert _acks(reply) == [
        (AckStatus.STORED, None),
        (AckStatus.REJECTED, "visit_events_from_tablets_only"),
        (AckStatus.REJECTED, "visit_events_from_tablets_only"),
    ]
    assert stored_rows(server_storage, "answers", "id") == [(str(answer.id),)]
    assert _outcome(server_storage) == [("waiting", None)]


@pytest.mark.parametrize("desk", ["same desk", "other desk"])
def test_another_tablet_cannot_change_a_visit_it_did_not_create(
    app_client, server_storage, tablet, desk
):
    visit_id = _arrived_visit(app_client, tablet)
    where = () if desk == "same desk" else ("hotel-de-ville", "etat-civil")
    intruder = enrolled_token(app_client, *where, mode="tablet")
    walked = _visit_record("walked_out", visit_id, 2)
    cancel = _visit_record("cancelled", visit_id, 2)
    mine = _visit_record("arrived", str(uuid.uuid4()), 2, ticket="B-001")
    reply = upload(app_client, intruder, walked, cancel, mine)
    assert _acks(reply) == [
        (AckStatus.REJECTED, "visit_not_yours"),
        (AckStatus.REJECTED, "visit_not_yours"),
        (AckStatus.STORED, None),
    ]
    outcomes = {row[0]: row[1] for row in stored_rows(server_storage, "visits", "id", "outcome")}
    assert outcomes == {visit_id: "waiting", str(mine.payload["visit_id"]): "waiting"}


def test_the_owner_tablet_own_later_event_still_applies(app_client, server_storage, tablet):
    visit_id = _arrived_visit(app_client, tablet)
    intruder = enrolled_token(app_client, mode="tablet")
    upload(app_client, intruder, _visit_record("walked_out", visit_id, 2))
    taken = _visit_record("taken_in_charge", visit_id, 4, wait_seconds=240.0)
    reply = upload(app_client, tablet, taken)
    assert _acks(reply) == [(AckStatus.STORED, None)]
    assert _outcome(server_storage) == [("served", 240.0)]
    again = upload(app_client, tablet, taken)  # a resend stays a duplicate
    assert _acks(again) == [(AckStatus.DUPLICATE, None)]


def test_an_event_before_its_arrival_claims_the_visit_for_its_own_tablet(
    app_client, server_storage, tablet
):
    visit_id = str(uuid.uuid4())
    taken = _visit_record("taken_in_charge", visit_id, 4, wait_seconds=240.0)
    assert _acks(upload(app_client, tablet, taken)) == [(AckStatus.STORED, None)]
    intruder = enrolled_token(app_client, mode="tablet")
    late_intruder = _visit_record("arrived", visit_id, 0, ticket="X-999")
    assert _acks(upload(app_client, intruder, late_intruder)) == [
        (AckStatus.REJECTED, "visit_not_yours")
    ]
    arrived = _visit_record("arrived", visit_id, 0, ticket="A-002")
    assert _acks(upload(app_client, tablet, arrived)) == [(AckStatus.STORED, None)]
    assert stored_rows(server_storage, "visits", "ticket", "outcome", "wait_seconds") == [
        ("A-002", "served", 240.0)
    ]


@pytest.mark.parametrize(
    ("mode", "claimed"),
    [("kiosk", "phone"), ("kiosk", "tablet"), ("tablet", "kiosk"), ("tablet", "phone")],
)
def test_an_answer_channel_is_the_device_mode_whatever_the_payload_says(
    app_client, server_storage, mode, claimed
):
    token = enrolled_token(app_client, mode=mode)
    record = make_record(answer_payload(channel=claimed), at=T0)
    assert _acks(upload(app_client, token, record)) == [(AckStatus.STORED, None)]
    assert stored_rows(server_storage, "answers", "channel") == [(mode,)]
    assert _acks(upload(app_client, token, record)) == [(AckStatus.DUPLICATE, None)]
