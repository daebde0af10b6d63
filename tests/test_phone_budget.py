"""The phone survey's abuse budget: the window rule as pure functions, and the counters in the
database, so that several server processes (and a restarted one) hold one budget per client."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from sync_server.app import create_app
from sync_server.phone.budget import is_suspect, period_of, retry_after
from sync_server.phone.guard import Limits, PhoneGuard
from sync_server.storage import Storage, migrations, phone_limits, schema, town
from sync_server.storage.retention import Policy, purge
from sync_server.storage.sessions import Lifetime
from tests.fixtures.server import SERVICE, SITE, TOWN, server_settings_for
from tests.tools.phone_survey import hidden_fields

T0 = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=10)
SURVEY = f"/s/{SITE}/{SERVICE}"
POSTS = 3


def test_a_full_window_says_when_a_place_frees():
    times = [T0, T0 + timedelta(seconds=10), T0 + timedelta(seconds=20)]
    assert retry_after(times[:2], T0 + timedelta(seconds=30), 3, WINDOW) is None
    assert retry_after(times, T0 + timedelta(seconds=30), 3, WINDOW) == 570
    assert retry_after(times, T0 + WINDOW - timedelta(milliseconds=1), 3, WINDOW) == 1
    assert retry_after(times, T0 + WINDOW, 3, WINDOW) is None  # the first has left the window


def test_an_answer_is_suspect_only_close_to_the_previous_one():
    interval = timedelta(seconds=30)
    assert not is_suspect(None, T0, interval)
    assert is_suspect(T0, T0 + timedelta(seconds=29), interval)
    assert not is_suspect(T0, T0 + interval, interval)


def test_periods_are_days_from_midnight_utc_whatever_the_zone():
    day = timedelta(days=1)
    midnight = datetime(2025, 3, 10, tzinfo=UTC)
    assert period_of(midnight, day) == period_of(midnight + day - timedelta(microseconds=1), day)
    assert period_of(midnight + day, day) == period_of(midnight, day) + 1
    paris = midnight.astimezone(datetime.now().astimezone().tzinfo)
    assert period_of(paris, day) == period_of(midnight, day)


@given(
    gaps=st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=80),
    max_posts=st.integers(min_value=1, max_value=8),
)
def test_no_window_ever_holds_more_than_the_budget(gaps, max_posts):
    accepted: list[datetime] = []
    now = T0
    for gap in gaps:
        now += timedelta(seconds=gap)
        wait = retry_after(accepted, now, max_posts, WINDOW)
        if wait is None:
            accepted.append(now)
            continue
        assert 1 <= wait <= WINDOW.total_seconds()
        # Waiting as told is enough, and waiting less than a second short is not.
        assert retry_after(accepted, now + timedelta(seconds=wait), max_posts, WINDOW) is None
        if wait > 1:
            short = now + timedelta(seconds=wait - 1)
            assert retry_after(accepted, short, max_posts, WINDOW) is not None
    for start in accepted:
        inside = [t for t in accepted if start <= t < start + WINDOW]
        assert len(inside) <= max_posts


# -- several processes on one database ----------------------------------------------------------


def migrated(url: str) -> None:
    storage = Storage.from_url(url)
    migrations.upgrade(storage)
    with storage.write() as connection:
        town.load_town(connection, TOWN)
    storage.close()


@contextmanager
def server_process(tmp_path, url: str) -> Iterator[FastAPI]:
    """One server process's app on the database at `url`, its own storage and guard, the
    phone budget `POSTS` submissions."""
    settings = server_settings_for(tmp_path, database_url=url)
    storage = Storage.from_url(url)
    try:
        app = create_app(settings, storage)
        app.state.phone_guard = PhoneGuard(storage, Limits(max_posts=POSTS))
        yield app
    finally:
        storage.close()


def main_answer(app: FastAPI) -> int:
    """The status of one answer to the main question from the phone at 203.0.113.7."""
    with TestClient(app, client=("203.0.113.7", 40_000), follow_redirects=False) as client:
        form = {**hidden_fields(client.get(SURVEY).text), "answer": "satisfied"}
        return client.post(SURVEY, data=form).status_code


def test_two_processes_share_one_budget_and_a_restart_keeps_it(tmp_path, storage_url):
    migrated(storage_url)
    with ExitStack() as processes:
        first = processes.enter_context(server_process(tmp_path, storage_url))
        second = processes.enter_context(server_process(tmp_path, storage_url))
        statuses = [main_answer(app) for app in (first, second, first, second)]
        assert statuses == [303, 303, 303, 429]
        assert main_answer(first) == 429
    with server_process(tmp_path, storage_url) as restarted:
        assert main_answer(restarted) == 429
        storage = restarted.state.storage
        with storage.read() as connection:
            for table in (schema.phone_limits, schema.phone_salts):
                for row in connection.execute(table.select()):
                    assert "203.0.113" not in str(tuple(row))


def test_the_daily_purge_forgets_a_quiet_surveys_counters_and_salt(any_storage):
    day = datetime(2026, 3, 2, 9, tzinfo=UTC)
    clock = [day]
    guard = PhoneGuard(any_storage, clock=lambda: clock[0])
    assert guard.admit("203.0.113.9", answer=True) is False
    assert guard.remembered_keys()
    lifetime = Lifetime(idle=timedelta(minutes=30), absolute=timedelta(hours=12))
    policy = Policy(free_text_months=12, heartbeat_days=30, session_lifetime=lifetime,
                    login_failure_window=timedelta(minutes=30))  # fmt: skip
    purge(any_storage, day + timedelta(hours=2), policy)
    assert guard.remembered_keys()  # today's salt and counters stay
    # No phone answers for two days: nothing of that day is left.
    purge(any_storage, day + timedelta(days=2), policy)
    with any_storage.read() as connection:
        assert schema.row_count(connection, "phone_limits") == 0
        assert schema.row_count(connection, "phone_salts") == 0
    clock[0] = day + timedelta(days=2, minutes=1)
    assert guard.admit("203.0.113.9", answer=True) is False


def test_two_processes_making_a_new_days_salt_at_once_agree(pg_storage, second_process):
    """At midnight two processes may both need the new day's salt: the second waits for the
    first one's transaction, then reads the salt it made; one salt, one pseudonym per phone."""
    day = datetime(2026, 3, 2, 0, 0, 1, tzinfo=UTC)
    other_key: list[str] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def other() -> None:
        try:
            guard = PhoneGuard(second_process, clock=lambda: day)
            other_key.append(guard.client_key("203.0.113.9"))
        except BaseException as error:
            errors.append(error)
        done.set()

    period = period_of(day, timedelta(days=1))
    with pg_storage.write() as connection:
        first = phone_limits.salt(connection, period, day)
        thread = threading.Thread(target=other)
        thread.start()
        assert not done.wait(1.0)  # waits on this one's uncommitted salt
    thread.join(20)
    assert errors == []
    with pg_storage.read() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(schema.phone_salts)) == 1
    assert other_key == [PhoneGuard(pg_storage, clock=lambda: day).client_key("203.0.113.9")]
    assert first
