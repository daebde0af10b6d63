"""Migration 0018_comment_triage on a database holding comments before it, on both engines: the
comments stay as they were, none reviewed, the agents' names empty; a flagged old comment is
then held from a service manager, and a name added afterwards flags an old comment too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from sync_server.comments.reading import shown
from sync_server.storage import Source, Storage, migrations, quality, schema, surveys, uploads
from sync_server.storage import town as town_storage
from sync_server.storage import triage as triage_storage
from tests.fixtures.server import SERVICE, SITE, TOWN, answer_payload, make_record

# The upload path of today writes its pending list: that migration is applied early.
BEFORE = [m for m in migrations.MIGRATIONS if m[0] < "0018" or m[0] == "0024_concurrent_ingest"]
AT = datetime(2026, 5, 4, 8, tzinfo=UTC)
TEXTS = ["Accueil parfait, merci.", "Bande de connards", "Marie a tout réglé en 5 minutes."]


def test_comments_received_before_are_triaged_when_read(storage_url):
    storage = Storage.from_url(storage_url)
    migrations.migrate(storage.engine, BEFORE)
    with storage.write() as connection:
        surveys.publish_bundled(connection)
        town_storage.load_town(connection, TOWN)
    records = [
        make_record(answer_payload("dissatisfied", comment=text), at=AT + timedelta(minutes=i))
        for i, text in enumerate(TEXTS)
    ]
    uploads.store_batch(storage, records, Source(site=SITE, service=SERVICE, channel="kiosk"))
    assert migrations.upgrade(storage)[0] == "0018_comment_triage"  # later ones follow
    with storage.read() as connection:
        entries = {e.text: e for e in quality.register(connection)}
        names = triage_storage.staff_names(connection)
        counts = [
            connection.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            for table in (schema.staff_names, schema.comment_reviews)
        ]
    assert set(entries) == set(TEXTS)
    assert {e.review for e in entries.values()} == {None}
    assert (names, counts) == ({}, [0, 0])

    def held(text: str, staff: list[str]) -> str | None:
        return shown(text, entries[text].review, staff, reviewer=False).held

    assert [held(text, []) for text in TEXTS] == [None, "pending", None]
    with storage.write() as connection:
        triage_storage.set_staff_names(connection, SERVICE, ["Marie Dubois"], by="qualite")
    with storage.read() as connection:
        staff = triage_storage.staff_names(connection)[SERVICE]
    assert [held(text, staff) for text in TEXTS] == [None, "pending", "pending"]
    storage.close()
