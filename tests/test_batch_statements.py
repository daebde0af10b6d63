"""A batch costs the database a few statements, not some per record: on PostgreSQL a table's rows
go in one INSERT (an array per column), and the figures' rows take no lock on the records they
come from.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from sync_server.storage import Source, Storage, db, uploads
from tests.fixtures.postgres import town_storage
from tests.fixtures.server import SERVICE, SITE, answer_payload, make_record
from tests.tools.projected import all_projected

MARCH = datetime(2025, 3, 12, 9, 0, tzinfo=UTC)
KIOSK = Source(site=SITE, service=SERVICE, channel="kiosk")
LEVELS = ["very_satisfied", "satisfied", "dissatisfied", "very_dissatisfied"]


def batch(count: int, start: int = 0):
    return [
        make_record(answer_payload(LEVELS[n % 4]), at=MARCH + timedelta(minutes=start + n))
        for n in range(count)
    ]


@contextmanager
def statements(storage: Storage) -> Iterator[list[str]]:
    """Every statement the storage's engine sends (each row of an executemany counted)."""
    sent: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        rows = len(parameters) if executemany else 1
        sent.extend([statement] * rows)

    event.listen(storage.engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(storage.engine, "before_cursor_execute", note)


def test_a_batch_of_fifty_answers_is_stored_and_counted_in_a_few_statements(pg_storage):
    uploads.store_batch(pg_storage, batch(5), KIOSK)  # the desk's first day rows exist
    with statements(pg_storage) as sent:
        acks = uploads.store_batch(pg_storage, batch(50, start=100), KIOSK)
        all_projected(pg_storage)
    assert len(acks) == 50
    inserts = [s for s in sent if s.startswith("INSERT")]
    # records, records_pending, answers, answer_items (and a few rollup rows), not 200 INSERTs
    assert len(inserts) <= 20, f"{len(inserts)} INSERT statements for one batch"
    assert len(sent) <= 60, f"{len(sent)} statements for one batch"


def test_counting_a_batch_locks_none_of_its_records(pg_storage):
    uploads.store_batch(pg_storage, batch(20), KIOSK)
    all_projected(pg_storage)
    with pg_storage.read() as connection:
        counted = connection.exec_driver_sql("SELECT count(*) FROM answers").scalar()
        # A key check against `records` would lock each row it finds (FOR KEY SHARE), which
        # writes the row's header: the log's rows stay as their insert left them.
        locked = connection.exec_driver_sql("SELECT count(*) FROM records WHERE xmax <> 0").scalar()
    assert counted == 20
    assert locked == 0


def test_postgresql_checks_no_key_of_the_figures_against_the_log(pg_storage):
    with pg_storage.read() as connection:
        references = connection.exec_driver_sql(
            "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint"
            " WHERE contype = 'f' AND confrelid IN ('records'::regclass, 'answers'::regclass)"
        ).all()
    assert references == []


def test_sqlite_keeps_its_key_checks(tmp_path):
    # SQLite's checks take no row lock: they stay.
    for storage in town_storage(f"sqlite:///{tmp_path / 'server.db'}"):
        with storage.read() as connection:
            listed = connection.exec_driver_sql("PRAGMA foreign_key_list(answer_items)").all()
        assert {row[2] for row in listed} == {"answers"}


# The multi-row INSERT itself, on both engines --------------------------------------------------

PROBE = sa.Table(
    "insert_probe",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("label", sa.String(20)),
    sa.Column("flag", sa.Boolean),
    sa.Column("at", db.UtcDateTime),
    sa.Column("day", sa.Date),
    sa.Column("wait", sa.Float),
)
COLUMNS = ("id", "label", "flag", "at", "day", "wait")


@pytest.fixture
def probe(any_storage: Storage) -> Storage:
    """A table of its own, with a column of each kind the figures' tables hold."""
    with any_storage.write() as connection:
        PROBE.create(connection)
    return any_storage


def probe_rows(connection: sa.Connection, ids: range) -> list[tuple]:
    at, day = db.time_value(connection), db.date_value(connection)
    return [
        (
            n,
            None if n % 5 == 0 else f"row {n}",
            n % 2 == 0,
            at(MARCH + timedelta(seconds=n)),
            day(date(2025, 3, 1 + n % 28)),
            [None, 12, 7.5][n % 3],  # a JSON number: an int or a float
        )
        for n in ids
    ]


def stored(storage: Storage) -> list[tuple]:
    with storage.read() as connection:
        return [tuple(row) for row in connection.execute(sa.select(PROBE).order_by(PROBE.c.id))]


def test_many_rows_are_all_stored_as_given(probe):
    with probe.write() as connection:
        db.insert_rows(connection, PROBE, COLUMNS, probe_rows(connection, range(30)))
    rows = stored(probe)
    assert [row[0] for row in rows] == list(range(30))
    assert rows[3] == (3, "row 3", False, MARCH + timedelta(seconds=3), date(2025, 3, 4), None)
    assert [row[5] for row in rows[:3]] == [None, 12.0, 7.5]
    assert rows[10][1:3] == (None, True)


def test_new_rows_skip_the_stored_ones_and_count_what_they_added(probe):
    with probe.write() as connection:
        db.insert_rows(connection, PROBE, COLUMNS, probe_rows(connection, range(0, 30, 3)))
    with probe.write() as connection:
        rows = probe_rows(connection, range(30))
        rows[0] = (0, "changed", True, *rows[0][3:])
        added = db.insert_new_rows(connection, PROBE, COLUMNS, rows)
    assert added == 20
    after = stored(probe)
    assert len(after) == 30
    assert after[0][1] is None  # a stored row is left as it was


def test_a_row_breaking_a_key_fails_the_insert_and_the_transaction_keeps_nothing(probe):
    def insert_twice() -> None:
        with probe.write() as connection:
            rows = probe_rows(connection, range(20))
            db.insert_rows(connection, PROBE, COLUMNS, [*rows, rows[4]])

    with pytest.raises(sa.exc.IntegrityError):
        insert_twice()
    assert stored(probe) == []


def test_a_value_too_long_for_its_column_is_refused_not_cut(probe):
    def insert_long() -> None:
        with probe.write() as connection:
            rows = probe_rows(connection, range(3))
            rows[1] = (1, "x" * 21, *rows[1][2:])
            db.insert_rows(connection, PROBE, COLUMNS, rows)

    if probe.engine.dialect.name == "sqlite":
        insert_long()  # SQLite keeps text whole whatever the declared length
        assert stored(probe)[1][1] == "x" * 21
    else:
        with pytest.raises(sa.exc.DataError):
            insert_long()
        assert stored(probe) == []


def test_no_rows_is_no_statement(probe):
    with statements(probe) as sent, probe.write() as connection:
        db.insert_rows(connection, PROBE, COLUMNS, [])
        assert db.insert_new_rows(connection, PROBE, COLUMNS, []) == 0
    assert not [s for s in sent if s.startswith("INSERT")]
