"""Named migrations build exactly the schema of `schema.py` and upgrade a database in place."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from sync_server.storage import Source, Storage, devices, migrations, schema, town, uploads
from sync_server.storage.devices import secret_hash
from tests.fixtures.server import SERVICE, SITE, TOWN, answer_payload, make_record


def columns(engine: sa.Engine) -> dict[str, set[str]]:
    inspector = sa.inspect(engine)
    return {t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()}


def test_migrations_build_the_current_schema(tmp_path):
    storage = Storage.from_url(f"sqlite:///{tmp_path / 'new.db'}")
    assert migrations.upgrade(storage) == [name for name, _ in migrations.MIGRATIONS]
    expected = {t.name: {c.name for c in t.columns} for t in schema.metadata.sorted_tables}
    assert columns(storage.engine) == expected
    indexes = {i["name"] for i in sa.inspect(storage.engine).get_indexes("devices")}
    assert "devices_pending_token" in indexes
    storage.close()


def test_a_database_at_0001_is_upgraded_with_its_data(tmp_path):
    storage = Storage.from_url(f"sqlite:///{tmp_path / 'old.db'}")
    # A server installed before 0002 existed: only the initial migration was applied, and its
    # rows were written by the code of that time (plain SQL here, since the columns differ).
    migrations.migrate(storage.engine, migrations.MIGRATIONS[:1])
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    with storage.engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO sites VALUES (:site, 'Centre')"), {"site": SITE})
        connection.execute(
            sa.text("INSERT INTO services VALUES (:service, 'IRIS', 10)"), {"service": SERVICE}
        )
        connection.execute(
            sa.text("INSERT INTO desks VALUES (:site, :service)"),
            {"site": SITE, "service": SERVICE},
        )
        connection.execute(
            sa.text(
                "INSERT INTO devices (id, name, site, service, mode, token_hash, created_at,"
                " enrolled_at, last_seen_at, clock_offset_ms)"
                " VALUES ('d1', 'Borne', :site, :service, 'kiosk', :hash, :now, :now, :now, 5)"
            ),
            {"site": SITE, "service": SERVICE, "hash": secret_hash("old-token"), "now": now},
        )
    assert migrations.upgrade(storage)[:2] == ["0002_device_health", "0003_desk_opening_hours"]
    with storage.read() as connection:  # always open until configured
        assert town.desk(connection, SITE, SERVICE).opening_hours is None
    with storage.write() as connection:
        town.load_town(connection, TOWN)
    with storage.read() as connection:
        desk = town.desk(connection, "hotel-de-ville", "etat-civil")
    assert desk.opening_hours == TOWN["opening_hours"]
    device = devices.authenticate(storage, "old-token")
    assert device is not None
    assert (device.id, device.clock_offset_ms, device.drifting) == ("d1", 5, False)
    source = Source(site=SITE, service=SERVICE, channel="kiosk", device_id="d1")
    [ack] = uploads.store_batch(storage, [make_record(answer_payload())], source)
    assert ack.status == "stored"
    with storage.write() as connection:
        assert devices.rotate(connection, "d1")
    assert migrations.upgrade(storage) == []
    storage.close()
