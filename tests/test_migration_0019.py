"""Migration 0019_quality_cycle on a database whose annual review recorded actions, on both
engines: each action moves into the plan with its number, service, indicator, year, text and
author (come from an indicator missed, validated), the annual review still lists them, and a
new action takes the next number."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from sync_server.storage import Storage, migrations, plan, quality, referential, surveys
from sync_server.storage import town as town_storage
from tests.fixtures.server import TOWN

BEFORE = [m for m in migrations.MIGRATIONS if m[0] < "0019"]
AT = datetime(2026, 2, 3, 9, 30, tzinfo=UTC)
OLD = [
    (3, 2025, "iris", "satisfaction_rate", "Deuxième agent le lundi matin", "qualite"),
    (7, 2025, "etat-civil", "question:waiting", "Rendez-vous en ligne", "qualite-adjointe"),
    (9, 2024, "iris", "within_threshold_rate", "Borne d'accueil", "qualite"),
]


def test_the_annual_reviews_actions_move_into_the_plan(storage_url):
    storage = Storage.from_url(storage_url)
    migrations.migrate(storage.engine, BEFORE)
    with storage.write() as connection:
        surveys.publish_bundled(connection)
        town_storage.load_town(connection, TOWN)
        for number, year, service, indicator, text, by in OLD:
            connection.execute(
                sa.text(
                    "INSERT INTO improvement_actions (id, year, service, indicator, action,"
                    " recorded_by, recorded_at) VALUES (:id, :year, :service, :indicator,"
                    " :action, :by, :at)"
                ),
                {"id": number, "year": year, "service": service, "indicator": indicator,
                 "action": text, "by": by, "at": AT},
            )  # fmt: skip
    assert "0019_quality_cycle" in migrations.upgrade(storage)
    assert "improvement_actions" not in sa.inspect(storage.engine).get_table_names()
    with storage.read() as connection:
        moved = {a.id: a for a in plan.actions(connection)}
        review = quality.actions(connection, 2025)
    assert sorted(moved) == [3, 7, 9]
    for number, year, service, indicator, text, by in OLD:
        action = moved[number]
        assert (action.title, action.services, action.indicator, action.year) == (
            text, (service,), indicator, year)  # fmt: skip
        assert (action.origin, action.status) == ("indicator_miss", "validated")
        assert (action.created_by, action.validated_by, action.created_at) == (by, by, AT)
    assert [(a.id, a.service, a.action) for a in review] == [
        (7, "etat-civil", "Rendez-vous en ligne"),
        (3, "iris", "Deuxième agent le lundi matin"),
    ]
    # The review's form goes on recording, after the numbers kept.
    with storage.write() as connection:
        new = quality.record_action(
            connection, year=2025, service="iris", indicator="score", action="Affiche", by="qualite"
        )
    assert new == 10
    with storage.read() as connection:
        assert plan.get(connection, new).status == "validated"
    # The town loaded before 0019 gets its referential when loaded again.
    with storage.write() as connection:
        town_storage.load_town(connection, TOWN)
    with storage.read() as connection:
        phases = {s.slug: s.phase for s in referential.scope(connection)}
    assert phases["iris"] == 1
    storage.close()
