"""Migration 0017_register_contacts on a register handled before it, on both engines: the steps
already done get their author from the audit trail, a step the trail does not name stays
unknown, and the contacts table is there, empty."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from sync_server.storage import (
    Source,
    Storage,
    audit,
    migrations,
    quality,
    schema,
    surveys,
    uploads,
)
from sync_server.storage import town as town_storage
from tests.fixtures.server import SERVICE, SITE, TOWN, answer_payload, make_record

# The upload path of today writes its pending list: that migration is applied early.
BEFORE = [m for m in migrations.MIGRATIONS if m[0] < "0017" or m[0] == "0024_concurrent_ingest"]
AT = datetime(2026, 5, 4, 8, tzinfo=UTC)


def test_the_register_gets_its_authors_from_the_audit_trail(storage_url):
    storage = Storage.from_url(storage_url)
    migrations.migrate(storage.engine, BEFORE)
    with storage.write() as connection:
        surveys.publish_bundled(connection)
        town_storage.load_town(connection, TOWN)
    records = [
        make_record(answer_payload("dissatisfied", comment=f"n° {i}"), at=AT + timedelta(minutes=i))
        for i in range(4)
    ]
    uploads.store_batch(storage, records, Source(site=SITE, service=SERVICE, channel="kiosk"))
    with storage.read() as connection:
        ids = sorted(row[0] for row in connection.execute(sa.select(schema.comments.c.id)))
    steps = {
        # acknowledged then answered by two people, closed by a third
        ids[0]: [("acknowledged", "chef-iris"), ("answered", "qualite"), ("closed", "adjointe")],
        # answered at once: the answer acknowledged it too
        ids[1]: [("answered", "chef-iris")],
        # closed before the audit trail existed: nobody to name
        ids[2]: [],
    }
    dates = {"acknowledged": AT, "answered": AT + timedelta(days=1), "closed": AT + timedelta(2)}
    with storage.write() as connection:
        for comment_id, done in steps.items():
            names = {step for step, _who in done} or {"closed"}
            if "answered" in names:
                names.add("acknowledged")
            status = max(names, key=["acknowledged", "answered", "closed"].index)
            connection.execute(
                sa.text(
                    "INSERT INTO comment_register (comment_id, status, acknowledged_at,"
                    " answered_at, closed_at, updated_by, updated_at) VALUES (:id, :status,"
                    " :ack, :answer, :closed, 'qualite', :at)"
                ),
                {"id": comment_id, "status": status, "at": AT,
                 "ack": dates["acknowledged"] if "acknowledged" in names else None,
                 "answer": dates["answered"] if "answered" in names else None,
                 "closed": dates["closed"] if "closed" in names else None},
            )  # fmt: skip
            for step, who in done:
                actor = audit.Actor("user", who, "quality_manager")
                audit.record(connection, actor, f"register.{step}", str(comment_id), {})
    assert migrations.upgrade(storage)[0] == "0017_register_contacts"  # later ones follow
    with storage.read() as connection:
        found = {e.id: e for e in quality.register(connection)}
        contacts = connection.execute(sa.select(sa.func.count()).select_from(
            schema.register_contacts)).scalar()  # fmt: skip
    authors = {i: (found[i].acknowledged_by, found[i].answered_by, found[i].closed_by) for i in ids}
    assert authors == {
        ids[0]: ("chef-iris", "qualite", "adjointe"),
        ids[1]: ("chef-iris", "chef-iris", None),
        ids[2]: (None, None, None),
        ids[3]: (None, None, None),  # never handled
    }
    assert contacts == 0
    storage.close()
