"""The monthly meetings' storage on both engines (a SQLite file, then PostgreSQL): migration
0022_meetings on a database as 0021 left it; minutes saved and said back in the audit trail's
terms; a decision opening a validated action from a meeting decision; closed minutes frozen;
the meetings of a period, by the day held."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from sync_server.cycle.meetings import MeetingClosed
from sync_server.storage import Storage, migrations, plan, surveys
from sync_server.storage import meetings as storage_meetings
from sync_server.storage import town as town_storage
from tests.fixtures.server import SERVICE, TOWN

BEFORE = [m for m in migrations.MIGRATIONS if m[0] < "0022"]
DAY = date(2026, 3, 10)


def test_the_meeting_tables_come_with_migration_0022(storage_url):
    storage = Storage.from_url(storage_url)
    migrations.migrate(storage.engine, BEFORE)
    with storage.write() as connection:
        surveys.publish_bundled(connection)
        town_storage.load_town(connection, TOWN)
    assert "meetings" not in sa.inspect(storage.engine).get_table_names()
    assert "0022_meetings" in migrations.upgrade(storage)
    with storage.write() as connection:
        meeting_id = storage_meetings.add(connection, DAY, by="qualite")
        draft = plan.Draft("Afficher les horaires", "meeting", (SERVICE,))
        storage_meetings.add_decision(
            connection, meeting_id, "Afficher les horaires", SERVICE, action=draft, by="qualite"
        )
    with storage.read() as connection:
        [decision] = storage_meetings.decisions(connection, meeting_id)
        action = plan.get(connection, decision.action_id)
    assert action is not None
    assert (action.origin, action.status, action.services) == ("meeting", "validated", (SERVICE,))
    storage.close()


def test_minutes_are_saved_then_frozen_once_closed(any_storage):
    with any_storage.write() as connection:
        meeting_id = storage_meetings.add(connection, DAY, by="qualite")
        changed = storage_meetings.save_minutes(
            connection, meeting_id, DAY, "Mme Martin\nM. Petit", "Point sur l'IRIS", by="qualite"
        )
    assert changed == {
        "held_on": {"before": None, "after": "2026-03-10"},
        "attendees_changed": True,
        "notes_changed": True,
    }
    with any_storage.write() as connection:
        again = storage_meetings.save_minutes(
            connection, meeting_id, DAY, "Mme Martin\nM. Petit", "Point sur l'IRIS", by="qualite"
        )
        assert again == {}
        storage_meetings.close(connection, meeting_id, by="qualite")
    with any_storage.write() as connection:
        with pytest.raises(MeetingClosed):
            storage_meetings.save_minutes(connection, meeting_id, DAY, "", "", by="qualite")
        with pytest.raises(MeetingClosed):
            storage_meetings.add_decision(connection, meeting_id, "x", None, action=None, by="q")
        with pytest.raises(MeetingClosed):
            storage_meetings.close(connection, meeting_id, by="qualite")
    with any_storage.read() as connection:
        found = storage_meetings.get(connection, meeting_id)
        assert storage_meetings.decisions(connection, meeting_id) == []
        assert plan.actions(connection) == []
    assert found is not None
    assert (found.status, found.closed_by, found.notes) == ("closed", "qualite", "Point sur l'IRIS")
    assert found.attendee_lines == ["Mme Martin", "M. Petit"]


def test_the_meetings_of_a_period_go_by_the_day_held(any_storage):
    with any_storage.write() as connection:
        january = storage_meetings.add(connection, date(2026, 1, 12), by="qualite")
        late = storage_meetings.add(connection, date(2026, 1, 30), by="qualite")
        storage_meetings.save_minutes(connection, late, date(2026, 2, 2), "", "", by="qualite")
        march = storage_meetings.add(connection, date(2026, 3, 9), by="qualite")
    with any_storage.read() as connection:
        between = storage_meetings.meetings_between
        in_january = between(connection, date(2026, 1, 1), date(2026, 2, 1))
        in_q1 = between(connection, date(2026, 1, 1), date(2026, 4, 1))
        every = storage_meetings.every(connection)
    assert [m.id for m in in_january] == [january]
    assert [m.id for m in in_q1] == [january, late, march]
    assert [m.id for m in every] == [march, late, january]
