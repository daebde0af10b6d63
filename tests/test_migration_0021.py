"""Migration 0021_mystery_evaluations on a database as 0019 left it, on both engines: the grid
and the evaluations' tables appear, the grid reads as the starting grid (stored with the first
change), and an evaluation keeps its answers; no table of 0020 (internal audits) is needed."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from sync_server.cycle.mystery import score
from sync_server.storage import Storage, migrations, mystery, surveys
from sync_server.storage import town as town_storage
from tests.fixtures.server import SERVICE, SITE, TOWN

BEFORE = [m for m in migrations.MIGRATIONS if m[0] < "0020"]


def test_the_mystery_tables_come_with_the_starting_grid(storage_url):
    storage = Storage.from_url(storage_url)
    migrations.migrate(storage.engine, BEFORE)
    with storage.write() as connection:
        surveys.publish_bundled(connection)
        town_storage.load_town(connection, TOWN)
    assert "mystery_criteria" not in sa.inspect(storage.engine).get_table_names()
    assert "0021_mystery_evaluations" in migrations.upgrade(storage)
    with storage.write() as connection:
        grid = mystery.criteria(connection)
        reception = [c for c in grid if c.channel == "reception"]
        number = mystery.record(
            connection, service=SERVICE, site=SITE, channel="reception",
            visited_on=date(2026, 3, 2), evaluator="Cabinet Éval", comment="",
            answers=[(reception[0], reception[0].top), (reception[1], None)], by="qualite",
        )  # fmt: skip
    with storage.read() as connection:
        found = mystery.evaluation(connection, number)
        assert len(mystery.criteria(connection)) == len(grid)
    assert {c.channel for c in grid} >= {"reception", "phone"}
    assert found is not None
    assert score(found.answers) == 100
    assert (found.service, found.visited_on) == (SERVICE, date(2026, 3, 2))
    storage.close()
