"""Nothing lost, nothing doubled, as a property: for any interleaving of captures, uploads through
injected faults, and kiosk restarts, the server ends with exactly the records captured, once."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.core.store import KioskStore
from kiosk.core.sync import sync_once
from kiosk.core.sync_client import SyncClient
from qualivilles.protocol import ResponseStatus
from sync_server.storage import health as fleet_health
from tests.fixtures.fault_proxy import PASS, DropAfterCommit, Portal, Status, Truncated
from tests.tools.server_reads import record_ids

FAULTS = {
    "pass": PASS,
    "500": Status(500),
    "503": Status(503, retry_after=1),
    "portal": Portal(),
    "truncated": Truncated(),
    "drop_after_commit": DropAfterCommit(),
}

steps = st.lists(
    st.one_of(
        st.tuples(st.just("capture"), st.integers(min_value=1, max_value=7)),
        st.tuples(
            st.just("upload"),
            st.lists(st.sampled_from(sorted(FAULTS)), min_size=1, max_size=3),
        ),
        st.tuples(st.just("down"), st.just(0)),  # the server goes away for one pass
        st.tuples(st.just("restart"), st.just(0)),
    ),
    max_size=10,
)


def server_ids(live_server, device_id: str) -> list[str]:
    return record_ids(live_server.storage, device_id)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=steps, batch=st.integers(min_value=1, max_value=6))
def test_any_interleaving_ends_with_each_record_once(
    live_server, fault_proxy, tmp_path, plan, batch
):
    credentials = SyncClient.enrol(fault_proxy.url, live_server.enrol(), "test")
    path = tmp_path / f"kiosk-{uuid.uuid4().hex}.db"
    captured: list[str] = []
    store = KioskStore(path)
    store.save_credentials(credentials)
    client = SyncClient.from_credentials(credentials, timeout=(2, 5))
    try:
        for action, argument in plan:
            if action == "capture":
                for _ in range(argument):
                    response_id = store.start_response("qualivilles-accueil", 1, "fr")
                    store.record_answer(response_id, "overall", "satisfied")
                    store.seal_response(response_id, ResponseStatus.COMPLETE)
                    captured.append(response_id)
            elif action == "upload":
                fault_proxy.next(*(FAULTS[name] for name in argument))
                sync_once(store, client, batch_count=batch, heartbeat=False)
                fault_proxy.clear()  # faults not met (nothing left to send) do not leak onwards
            elif action == "down":
                fault_proxy.down()
                report = sync_once(store, client, batch_count=batch, heartbeat=False)
                fault_proxy.up()
                assert report.error_code == "server_unreachable"
            else:  # a restart: the kiosk process ends and starts again on the same file
                store.close()
                client.close()
                store = KioskStore(path)
                client = SyncClient.from_credentials(store.credentials(), timeout=(2, 5))
        assert set(str(r.id) for r in store.pending_records(max_count=500)) <= set(captured)
        # The network is healthy again: the device drains.
        for _ in range(5):
            report = sync_once(store, client, heartbeat=False)
            if report.ok and store.backlog() == 0:
                break
        assert report.ok, report.error
        assert store.backlog() == 0
        assert store.held_records() == []
    finally:
        store.close()
        client.close()
    stored = server_ids(live_server, credentials.device_id)
    assert sorted(stored) == sorted(captured)  # exactly the captured set, each once
    with live_server.storage.read() as connection:
        assert fleet_health.quarantine_summary(connection).count == 0
