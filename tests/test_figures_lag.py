"""Pages never wait for the projection: while records are acknowledged and not yet counted, the
staff pages that show figures say so, and stop saying it once they are counted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from sync_server.projector import projection_loop
from sync_server.settings import Settings
from sync_server.storage import Source, projection, uploads
from tests.fixtures.server import (
    SERVICE,
    SITE,
    answer_payload,
    log_in_client,
    make_record,
    server_settings_for,
)

KIOSK = Source(site=SITE, service=SERVICE, channel="kiosk")
# 13:02 in Paris (winter time): the time the notice shows is the town's.
RECEIVED = datetime(2026, 1, 15, 12, 2, tzinfo=UTC)


@pytest.fixture
def server_settings(tmp_path) -> Settings:
    """The server's own projection loop off: these tests choose when records are projected."""
    return server_settings_for(tmp_path, projection_every=0)


def lag_notice(html: str) -> str | None:
    start = html.find("data-figures-lag=")
    return None if start < 0 else html[start : html.index("</p>", start)]


def test_pages_say_how_many_records_are_not_counted_yet_until_they_are(app_client):
    storage = app_client.app.state.storage
    records = [
        make_record(answer_payload("satisfied"), at=RECEIVED - timedelta(minutes=n))
        for n in range(3)
    ]
    uploads.store_batch(storage, records, KIOSK, received_at=RECEIVED, project=False)
    log_in_client(app_client, "qualite")
    for path in ("/", f"/service/{SERVICE}", "/comments"):
        page = app_client.get(path)
        assert page.status_code == 200, path
        notice = lag_notice(page.text)
        assert notice is not None, path
        assert 'data-figures-lag="3"' in notice
        assert "3 enregistrement(s) reçu(s) depuis 15/01/2026 13:02" in notice
    english = app_client.get("/?lang=en")
    assert "Figures being updated: 3 record(s) received since" in (lag_notice(english.text) or "")

    assert projection.catch_up(storage) == 3
    assert lag_notice(app_client.get("/").text) is None


def test_a_role_that_reads_no_figures_gets_no_notice(app_client):
    storage = app_client.app.state.storage
    uploads.store_batch(storage, [make_record(answer_payload("satisfied"))], KIOSK, project=False)
    log_in_client(app_client, "admin", role="admin")
    page = app_client.get("/admin/users")
    assert page.status_code == 200
    assert lag_notice(page.text) is None


def test_the_server_loop_projects_what_uploads_left(server_storage):
    # What a process's loop does first when it starts (then every `projection_every` seconds):
    # records left pending (by a process that stopped, or while another one was projecting).
    uploads.store_batch(
        server_storage, [make_record(answer_payload("satisfied"))], KIOSK, project=False
    )
    stop = asyncio.Event()
    stop.set()  # one pass, then the loop returns
    asyncio.run(projection_loop(server_storage, stop, every=60))
    with server_storage.read() as connection:
        assert projection.lag(connection) == projection.Lag(0, None)
        assert connection.exec_driver_sql("SELECT count(*) FROM answers").scalar() == 1
