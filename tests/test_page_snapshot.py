"""A staff page made of parts reads one snapshot through one pooled connection
(`Storage.reading`): the overview's cards, notices, overdue actions, quality-cycle glance,
flagged comments and figures' lag wait for the pool once, not once per part, and agree with
each other. Reads outside the block, or in another thread, keep their own."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from sync_server.storage import Storage, schema
from tests.fixtures.server import SERVICE, add_user
from tests.tools.staff_forms import sign_in


@contextmanager
def checkouts_from(storage: Storage, *sources: str) -> Iterator[list[int]]:
    """The pooled connections taken by code under `sources` (paths) while the block runs."""
    taken: list[int] = []

    def on_checkout(dbapi_connection, record, proxy) -> None:
        if any(s in frame.filename for frame in traceback.extract_stack() for s in sources):
            taken.append(id(dbapi_connection))

    sa.event.listen(storage.engine, "checkout", on_checkout)
    try:
        yield taken
    finally:
        sa.event.remove(storage.engine, "checkout", on_checkout)


# A page's handler, and what wraps it in one snapshot.
PAGE_CODE = ("sync_server/web/pages/", "sync_server/web/snapshot.py")
PAGES = ("/", f"/service/{SERVICE}", "/comments", "/review", "/actions", "/meetings", "/audits",
         "/mystery", "/mystery/grid")  # fmt: skip


def test_each_staff_page_reads_one_snapshot_through_one_connection(app_server):
    for name, role, services in (("qualite", "quality_manager", None),
                                 ("chef-iris", "service_manager", [SERVICE])):  # fmt: skip
        add_user(app_server.storage, name, role, services)
        session = sign_in(app_server, name)
        for path in PAGES:
            with checkouts_from(app_server.storage, *PAGE_CODE) as taken:
                page = session.get(f"{app_server.url}{path}")
            if page.status_code == 403:  # not this reader's page
                assert taken == [], (name, path)
                continue
            assert page.status_code == 200, (name, path)
            assert len(taken) == 1, (name, path, len(taken))


def test_reads_share_the_snapshot_only_inside_the_block_and_the_thread(any_storage):
    storage = any_storage
    count = sa.select(sa.func.count()).select_from(schema.audit_events)
    seen_elsewhere: list[object] = []
    with storage.reading():
        with storage.read() as first:
            before = first.scalar(count)
        with storage.read() as second:
            assert second is first

        def elsewhere() -> None:
            with storage.read() as other:
                seen_elsewhere.append(other)

        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()
        assert seen_elsewhere
        assert seen_elsewhere[0] is not first
    with storage.read() as after:
        assert after is not first
        assert after.scalar(count) == before
