"""The kiosk sync client against the real server on loopback, and against the peers we do not
own (captive portals, broken proxies, overloaded servers), played by stdlib HTTP stubs."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from uuid import UUID

import pytest

from kiosk.core.clock import ManualClock
from kiosk.core.device_state import Credentials
from kiosk.core.store import KioskStore
from kiosk.core.sync import sync_once
from kiosk.core.sync_client import (
    AuthRejected,
    InvalidAcknowledgement,
    RequestRejected,
    ServerError,
    ServerUnreachable,
    SyncClient,
    parse_retry_after,
)
from qualivilles.protocol import (
    AckStatus,
    RecordIn,
    ResponseStatus,
    SyncResponse,
    new_record_id,
    payload_hash,
)
from tests.fixtures.http_stub import Stub, send
from tests.tools.kiosk_records import fill
from tests.tools.server_reads import record_ids

SITE, SERVICE = "centre-administratif", "iris"


# Helpers -------------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path):
    with KioskStore(tmp_path / "kiosk.db") as store:
        yield store


@pytest.fixture
def credentials(live_server) -> Credentials:
    """A desk's tablet: the records filled in here include visit events."""
    code = live_server.enrol(SITE, SERVICE, mode="tablet")
    return SyncClient.enrol(live_server.url, code, "test")


@pytest.fixture
def client(credentials) -> Iterator[SyncClient]:
    with SyncClient.from_credentials(credentials) as client:
        yield client


# Against the real server ---------------------------------------------------------------------


def test_enrolment_gives_this_device_its_identity(live_server):
    credentials = SyncClient.enrol(live_server.url, live_server.enrol(SITE, SERVICE), "test")
    assert (credentials.site, credentials.service) == (SITE, SERVICE)
    assert credentials.server_url == live_server.url.rstrip("/")
    assert credentials.device_id
    assert credentials.token


def test_an_enrolment_code_works_once(live_server):
    code = live_server.enrol(SITE, SERVICE)
    SyncClient.enrol(live_server.url, code, "test")
    with pytest.raises((RequestRejected, AuthRejected)) as refused:
        SyncClient.enrol(live_server.url, code, "test")
    assert refused.value.problem_code


def test_a_wrong_token_is_rejected_with_a_code(live_server):
    with SyncClient(live_server.url, "not-a-token") as client, pytest.raises(AuthRejected) as e:
        client.upload([])
    assert e.value.status == 401
    assert e.value.problem_code


def test_uploaded_records_are_stored_and_forgotten(live_server, client, store):
    ids = fill(store)
    acks = client.upload(store.pending_records())
    assert {str(ack.id): ack.status for ack in acks} == dict.fromkeys(ids, AckStatus.STORED)
    store.apply_acks(acks)
    assert store.backlog() == 0
    assert set(ids) <= set(record_ids(live_server.storage))


def test_a_repeated_upload_is_acknowledged_as_duplicate_and_nothing_doubles(
    live_server, client, store
):
    ids = fill(store)
    batch = store.pending_records()
    client.upload(batch)
    # The answer to the first upload was lost: the device sends the same batch again.
    acks = client.upload(batch)
    assert {ack.status for ack in acks} == {AckStatus.DUPLICATE}
    stored = record_ids(live_server.storage)
    assert sorted(i for i in stored if i in ids) == sorted(ids)
    summary = store.apply_acks(acks)
    assert (summary.forgotten, summary.duplicates) == (len(ids), len(ids))


def test_the_same_id_with_another_payload_is_a_conflict_that_blocks_nothing(
    live_server, client, store
):
    [first, second] = fill(store, answers=2, visits=0)
    original = store.pending_records()
    client.upload(original[:1])
    tampered_payload = {**original[0].payload, "status": "partial"}
    tampered = original[0].model_copy(
        update={"payload": tampered_payload, "payload_hash": payload_hash(tampered_payload)}
    )
    acks = client.upload([tampered, original[1]])
    assert [(str(a.id), a.status) for a in acks] == [
        (first, AckStatus.CONFLICT),
        (second, AckStatus.STORED),
    ]


def test_configuration_is_fetched_then_not_modified(client):
    config, etag = client.fetch_config(None)
    assert config["site"]["slug"] == SITE
    assert config["service"]["slug"] == SERVICE
    assert config["survey"]["id"]
    assert etag
    assert client.fetch_config(etag) == (None, etag)


def test_sync_once_drains_in_small_batches_and_caches_the_config(live_server, client, store):
    ids = fill(store, answers=7, visits=5)
    report = sync_once(store, client, batch_count=5)
    assert report.ok, report.error
    assert (report.sent, report.forgotten, report.backlog) == (12, 12, 0)
    assert report.config_changed
    assert store.cached_config().config["site"]["slug"] == SITE
    assert set(ids) <= set(record_ids(live_server.storage))
    status = store.sync_status()
    assert status.last_sync_at is not None
    assert status.last_error is None
    assert status.clock_offset_ms is not None
    # Nothing new: an empty pass that gets a 304.
    again = sync_once(store, client)
    assert again.ok
    assert (again.sent, again.config_changed) == (0, False)


def test_a_comment_as_typed_leaves_the_kiosk_a_day_after_the_server_has_it(
    live_server, client, tmp_path
):
    clock = ManualClock(datetime.now(UTC))
    with KioskStore(tmp_path / "kiosk.db", clock=clock) as store:
        response_id = store.start_response("qualivilles-accueil", 1, "fr")
        store.record_answer(response_id, "overall", "dissatisfied")
        store.set_comment(response_id, "Rappelez-moi au 06 12 34 56 78")
        store.seal_response(response_id, ResponseStatus.COMPLETE)
        assert sync_once(store, client).forgotten == 1
        assert store.response(response_id)["comment"] == "Rappelez-moi au 06 12 34 56 78"
        clock.advance(2 * 86_400)
        assert sync_once(store, client).ok
        assert store.response(response_id) is None


def test_a_wrong_device_clock_shows_as_an_offset(live_server, credentials, store):
    late = ManualClock(datetime.now(UTC) - timedelta(days=1))
    with SyncClient.from_credentials(credentials, clock=late) as client:
        fill(store, answers=1, visits=0)
        exchange = client.exchange(store.pending_records())
    assert exchange.clock_offset_ms == pytest.approx(86_400_000, abs=60_000)


# Against peers we do not own -----------------------------------------------------------------


@pytest.fixture
def stub() -> Iterator[Callable[..., Stub]]:
    started: list[Stub] = []

    def start(respond: Callable[[BaseHTTPRequestHandler, bytes], None]) -> Stub:
        started.append(Stub(respond))
        return started[-1]

    yield start
    for server in started:
        server.close()


def valid_answer_for(body: bytes, **override: object) -> bytes:
    """What the real server would say: every record stored."""
    sent = json.loads(body)["records"]
    acks = [{"id": record["id"], "status": "stored"} for record in sent]
    return json.dumps(
        {"protocol": 1, "received_at": datetime.now(UTC).isoformat(), "acknowledged": acks}
        | override
    ).encode()


def assert_nothing_forgotten(store: KioskStore, ids: list[str], url: str, error: type) -> None:
    """A failed sync pass reports the error and leaves every record queued, in order."""
    with SyncClient(url, "token", timeout=(2, 2)) as client:
        report = sync_once(store, client)
    assert not report.ok
    assert report.error_kind == error.code
    assert [str(r.id) for r in store.pending_records()] == ids
    assert store.sync_status().last_error_code == report.error_code


CAPTIVE_PORTAL = b"<!doctype html><html><body><h1>Wi-Fi Mairie</h1>Acceptez les CGU</body></html>"


def test_a_captive_portal_page_is_not_an_acknowledgement(stub, store):
    portal = stub(lambda h, body: send(h, 200, CAPTIVE_PORTAL, Content_Type="text/html"))
    ids = fill(store)
    with SyncClient(portal.url, "token") as client, pytest.raises(InvalidAcknowledgement):
        client.upload(store.pending_records())
    assert_nothing_forgotten(store, ids, portal.url, InvalidAcknowledgement)


def test_a_redirect_to_a_portal_is_not_followed(stub, store):
    portal = stub(lambda h, body: send(h, 302, b"", Location="http://portal.example/login"))
    ids = fill(store)
    with SyncClient(portal.url, "token") as client, pytest.raises(InvalidAcknowledgement):
        client.upload(store.pending_records())
    assert [request[0] for request in portal.requests] == ["POST"]
    assert_nothing_forgotten(store, ids, portal.url, InvalidAcknowledgement)


def test_a_truncated_acknowledgement_is_not_an_acknowledgement(stub, store):
    # A proxy that cut the body but fixed up Content-Length.
    proxy = stub(lambda h, body: send(h, 200, valid_answer_for(body)[:40]))
    ids = fill(store)
    with SyncClient(proxy.url, "token") as client, pytest.raises(InvalidAcknowledgement):
        client.upload(store.pending_records())
    assert_nothing_forgotten(store, ids, proxy.url, InvalidAcknowledgement)


def test_a_connection_cut_mid_body_is_not_an_acknowledgement(stub, store):
    def cut(handler: BaseHTTPRequestHandler, body: bytes) -> None:
        full = valid_answer_for(body)
        send(handler, 200, full[: len(full) // 2], Content_Length=str(len(full)))
        handler.close_connection = True

    proxy = stub(cut)
    ids = fill(store)
    with SyncClient(proxy.url, "token") as client, pytest.raises(InvalidAcknowledgement):
        client.upload(store.pending_records())
    assert_nothing_forgotten(store, ids, proxy.url, InvalidAcknowledgement)


def test_acknowledgements_for_records_not_sent_are_refused(stub, store):
    def strangers(handler: BaseHTTPRequestHandler, body: bytes) -> None:
        acks = [{"id": new_record_id(), "status": "stored"}]
        send(handler, 200, valid_answer_for(body, acknowledged=acks))

    server = stub(strangers)
    ids = fill(store)
    with SyncClient(server.url, "token") as client, pytest.raises(InvalidAcknowledgement):
        client.upload(store.pending_records())
    assert_nothing_forgotten(store, ids, server.url, InvalidAcknowledgement)


def test_a_valid_stub_answer_is_accepted(stub, store):
    # The control for the cases above: the same stub with a correct body succeeds.
    server = stub(lambda h, body: send(h, 200, valid_answer_for(body)))
    ids = fill(store)
    with SyncClient(server.url, "token") as client:
        acks = client.upload(store.pending_records())
    assert [str(ack.id) for ack in acks] == ids
    SyncResponse.model_validate_json(valid_answer_for(server.requests[0][2]))
    sent = json.loads(server.requests[0][2])
    assert [RecordIn.model_validate(r).id for r in sent["records"]] == [UUID(i) for i in ids]
    assert datetime.fromisoformat(sent["sent_at"]).tzinfo is not None


def test_an_overloaded_server_says_when_to_retry(stub, store):
    busy = stub(
        lambda h, body: send(
            h,
            503,
            b'{"code":"overloaded"}',
            Content_Type="application/problem+json",
            Retry_After="120",
        )
    )
    ids = fill(store)
    with SyncClient(busy.url, "token") as client, pytest.raises(ServerError) as error:
        client.upload(store.pending_records())
    assert (error.value.status, error.value.retry_after) == (503, 120.0)
    assert_nothing_forgotten(store, ids, busy.url, ServerError)
    with SyncClient(busy.url, "token") as client:
        assert sync_once(store, client).retry_after == 120.0


def test_a_closed_port_is_unreachable(store):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    # The port is free again and nothing listens on it.
    ids = fill(store)
    with SyncClient(url, "token") as client, pytest.raises(ServerUnreachable):
        client.upload(store.pending_records())
    assert_nothing_forgotten(store, ids, url, ServerUnreachable)


def test_a_server_slower_than_the_timeout_is_unreachable(stub, store):
    release = threading.Event()

    def slow(handler: BaseHTTPRequestHandler, body: bytes) -> None:
        release.wait(timeout=10)

    server = stub(slow)
    ids = fill(store)
    try:
        with (
            SyncClient(server.url, "token", timeout=(2, 0.3)) as client,
            pytest.raises(ServerUnreachable),
        ):
            client.upload(store.pending_records())
        assert [str(r.id) for r in store.pending_records()] == ids
    finally:
        release.set()


def test_problem_codes_reach_the_caller(stub):
    def problem(handler: BaseHTTPRequestHandler, body: bytes) -> None:
        status, code = (
            (403, "device_revoked") if handler.command == "POST" else (422, "invalid_request")
        )
        payload = json.dumps({"title": "Refused", "status": status, "code": code}).encode()
        send(handler, status, payload, Content_Type="application/problem+json")

    server = stub(problem)
    with SyncClient(server.url, "token") as client:
        with pytest.raises(AuthRejected) as revoked:
            client.upload([])
        with pytest.raises(RequestRejected) as invalid:
            client.fetch_config(None)
    assert (revoked.value.problem_code, revoked.value.code) == ("device_revoked", "device_revoked")
    assert (invalid.value.status, invalid.value.problem_code) == (422, "invalid_request")


def test_a_portal_answering_the_config_request_is_refused(stub):
    portal = stub(lambda h, body: send(h, 200, CAPTIVE_PORTAL, Content_Type="text/html"))
    with SyncClient(portal.url, "token") as client, pytest.raises(InvalidAcknowledgement):
        client.fetch_config(None)


def test_the_token_travels_as_a_bearer_header(stub):
    seen: list[str | None] = []

    def record(handler: BaseHTTPRequestHandler, body: bytes) -> None:
        seen.append(handler.headers.get("Authorization"))
        send(handler, 304, b"", ETag='"v1"')

    server = stub(record)
    with SyncClient(server.url, "s3cret") as client:
        assert client.fetch_config('"v1"') == (None, '"v1"')
    assert seen == ["Bearer s3cret"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        (None, None),
        ("soon", None),
        ("Wed, 05 Mar 2025 09:02:00 GMT", 120.0),
        ("Wed, 05 Mar 2025 08:00:00 GMT", 0.0),
    ],
)
def test_retry_after_is_read_as_seconds_or_a_date(header, expected):
    now = datetime(2025, 3, 5, 9, 0, tzinfo=UTC)
    assert parse_retry_after(header, now) == expected


def test_an_enrolment_answered_by_a_portal_gives_no_credentials(stub):
    portal = stub(lambda h, body: send(h, 200, CAPTIVE_PORTAL, Content_Type="text/html"))
    with pytest.raises(InvalidAcknowledgement):
        SyncClient.enrol(portal.url, "ABCD-1234", "test")
