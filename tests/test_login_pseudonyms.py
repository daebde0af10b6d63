"""Failed sign-ins are counted without storing the name typed (it may be a password typed in
the wrong field) or the client's address: each is a salted hash under the day's random salt,
shared by every process. Counting carries over midnight (the day before's salt is looked up
too); older salts are deleted as a new one is made; two processes making the day's salt at once
agree on one. Storage on both engines, the real login form, migration 0027 on a database that
kept them in clear."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from sync_server.storage import Storage, login_failures, migrations, schema
from sync_server.storage.retention import Policy, purge
from sync_server.storage.sessions import Lifetime
from tests.tools.staff_forms import attempt

MANAGER = "qualite"
WINDOW = timedelta(minutes=30)
SECRET_NAME = "Tr0ub4dor&3 oops"  # a password typed in the name field
ADDRESS = "203.0.113.77"


def stored_text(storage: Storage) -> str:
    """Every value of every failure and salt row, as text."""
    with storage.read() as connection:
        rows = [
            *connection.execute(sa.select(schema.login_failures)),
            *connection.execute(sa.select(schema.login_salts.c.period)),
        ]
    return " ".join(str(value) for row in rows for value in row)


def test_neither_the_name_typed_nor_the_address_is_stored(any_storage):
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    with any_storage.write() as connection:
        for minutes in (3, 2, 1):
            at = now - timedelta(minutes=minutes)
            login_failures.record(connection, SECRET_NAME, ADDRESS, at, WINDOW)
    stored = stored_text(any_storage)
    assert stored
    for clear in (SECRET_NAME, SECRET_NAME.lower(), ADDRESS, "203.0.113"):
        assert clear not in stored
    with any_storage.read() as connection:
        since = now - WINDOW
        assert len(login_failures.of_account(connection, SECRET_NAME.upper(), since)) == 3
        assert len(login_failures.of_address(connection, ADDRESS, since)) == 3
        assert login_failures.of_address(connection, "203.0.113.78", since) == []
        assert login_failures.of_account(connection, "someone else", since) == []


def test_counting_carries_over_midnight_and_old_salts_go(any_storage):
    midnight = datetime(2026, 3, 3, tzinfo=UTC)
    with any_storage.write() as connection:
        for minutes in (3, 2, 1):
            at = midnight - timedelta(minutes=minutes)
            login_failures.record(connection, MANAGER, ADDRESS, at, WINDOW)
        login_failures.record(connection, MANAGER, ADDRESS, midnight, WINDOW)
    with any_storage.read() as connection:
        since = midnight - WINDOW
        assert len(login_failures.of_account(connection, MANAGER, since)) == 4
        assert len(login_failures.of_address(connection, ADDRESS, since)) == 4
        periods = sorted(connection.scalars(sa.select(schema.login_salts.c.period)))
    day = login_failures.salt_period(midnight)
    assert periods == [day - 1, day]
    # Two days on, the salts of the 2nd and 3rd are deleted: nothing leads back to them.
    later = midnight + timedelta(days=2)
    with any_storage.write() as connection:
        login_failures.record(connection, MANAGER, ADDRESS, later, WINDOW)
        periods = list(connection.scalars(sa.select(schema.login_salts.c.period)))
        assert periods == [day + 2]
        assert len(login_failures.of_account(connection, MANAGER, midnight - WINDOW)) == 1
    with any_storage.write() as connection:
        login_failures.forget_account(connection, MANAGER)
    with any_storage.read() as connection:
        assert login_failures.of_account(connection, MANAGER, later - WINDOW) == []
        assert len(login_failures.of_address(connection, ADDRESS, later - WINDOW)) == 1


def test_two_processes_making_the_days_salt_at_once_agree(pg_storage, second_process):
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    done = threading.Event()
    errors: list[BaseException] = []

    def other() -> None:
        try:
            with second_process.write() as connection:
                login_failures.record(connection, MANAGER, ADDRESS, now, WINDOW)
        except BaseException as error:
            errors.append(error)
        done.set()

    with pg_storage.write() as connection:
        login_failures.record(connection, MANAGER, ADDRESS, now, WINDOW)
        thread = threading.Thread(target=other)
        thread.start()
        # The other process waits on this one's uncommitted salt.
        assert not done.wait(1.0)
    thread.join(20)
    assert errors == []
    with pg_storage.read() as connection:
        assert len(login_failures.of_account(connection, MANAGER, now - WINDOW)) == 2
        assert connection.scalar(sa.select(sa.func.count()).select_from(schema.login_salts)) == 1


def test_the_login_form_stores_no_name_or_address(app_server):
    for _ in range(2):
        assert attempt(app_server, SECRET_NAME, "wrong").status_code == 401
    stored = stored_text(app_server.storage)
    assert stored
    assert SECRET_NAME.lower() not in stored
    assert "testclient" not in stored


def test_the_migration_deletes_the_failures_kept_in_clear(storage_url):
    storage = Storage.from_url(storage_url)
    before = [m for m in migrations.MIGRATIONS if m[0] < "0027"]
    migrations.migrate(storage.engine, before)
    with storage.write() as connection:
        connection.execute(
            schema.login_failures.insert().values(
                account=SECRET_NAME.lower(), address=ADDRESS, failed_at=datetime.now(UTC)
            )
        )
    assert "0027_hashed_login_failures" in migrations.upgrade(storage)
    assert ADDRESS not in stored_text(storage)
    with storage.read() as connection:
        count = connection.scalar(sa.select(sa.func.count()).select_from(schema.login_failures))
    assert count == 0
    storage.close()


def test_the_daily_purge_deletes_the_old_salts_when_nobody_fails_any_more(any_storage):
    day = datetime(2026, 3, 2, 9, tzinfo=UTC)
    with any_storage.write() as connection:
        login_failures.record(connection, MANAGER, ADDRESS, day, WINDOW)
    lifetime = Lifetime(idle=timedelta(minutes=30), absolute=timedelta(hours=12))
    policy = Policy(
        free_text_months=12, heartbeat_days=30, session_lifetime=lifetime,
        login_failure_window=WINDOW,
    )  # fmt: skip
    purge(any_storage, day + timedelta(days=1), policy)
    assert len(salt_periods(any_storage)) == 1  # the day before's is kept
    purge(any_storage, day + timedelta(days=2), policy)
    assert salt_periods(any_storage) == []
    assert ADDRESS not in stored_text(any_storage)


def salt_periods(storage: Storage) -> list[int]:
    with storage.read() as connection:
        return list(connection.scalars(sa.select(schema.login_salts.c.period)))
