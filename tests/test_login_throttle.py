"""Password guessing on the login page is slowed down, then locked out, per name and per client
address: the real app in-process (temp SQLite), the real form. Failures are counted in the
database, so every server process sees them; a locked name no account has gets the very same
answer as a real one."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_server.app import create_app
from sync_server.client_address import UNKNOWN
from sync_server.storage import Storage, login_failures
from sync_server.web import throttle
from tests.fixtures.server import (
    APP_URL,
    PASSWORD,
    AppServer,
    add_user,
    open_town_storage,
    server_settings_for,
)
from tests.tools.staff_forms import attempt, login_status, sign_in

MANAGER = "qualite"
# Starlette's TestClient reports "testclient" as the client's host: no IP address, so its
# failures count under the one key of clients without an address.
TESTCLIENT_ADDRESS = UNKNOWN
LOCKED = "Trop de tentatives de connexion infructueuses"


@pytest.fixture
def town(app_server: AppServer) -> AppServer:
    add_user(app_server.storage, MANAGER, "quality_manager")
    return app_server


@pytest.fixture
def strict_town(tmp_path: Path) -> Iterator[AppServer]:
    """A town whose sign-in locks an address after 3 failures."""
    settings = server_settings_for(tmp_path, public_base_url=APP_URL, login_failures_per_address=3)
    storage = open_town_storage(settings)
    add_user(storage, MANAGER, "quality_manager")
    server = AppServer(app=create_app(settings, storage), storage=storage, settings=settings)
    with server.clients:
        yield server
    storage.close()


def failures_ago(storage: Storage, username: str, ago: timedelta, count: int = 5) -> None:
    """`count` failed sign-ins under `username` from the test client, `ago`."""
    now = datetime.now(UTC)
    with storage.write() as connection:
        for i in range(count):
            at = now - ago - timedelta(seconds=count - i)
            login_failures.record(connection, username, TESTCLIENT_ADDRESS, at, timedelta(hours=1))


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(town, caplog):
    caplog.set_level(logging.WARNING, logger="sync_server.web.pages.login")
    for _ in range(5):
        assert attempt(town, MANAGER, "pas le bon mot de passe").status_code == 401
    locked = attempt(town, MANAGER, PASSWORD)
    assert locked.status_code == 429
    assert LOCKED in locked.text
    assert "réessayez dans 15 min" in locked.text
    assert town.client().get(f"{town.url}/", follow_redirects=False).status_code == 303
    # The lock-out is logged once, with the name and address, never a password.
    logged = [r.getMessage() for r in caplog.records if "sign-in locked" in r.getMessage()]
    assert len(logged) == 1
    assert MANAGER in logged[0]
    assert TESTCLIENT_ADDRESS in logged[0]
    assert "pas le bon" not in caplog.text
    assert PASSWORD not in caplog.text


def test_a_name_no_account_has_is_locked_without_writing_it_to_the_log(town, caplog):
    caplog.set_level(logging.WARNING, logger="sync_server.web.pages.login")
    typed = "Tr0ub4dor&3 in the wrong field"
    for _ in range(5):
        attempt(town, typed, "x")
    assert attempt(town, typed, "x").status_code == 429
    logged = [r.getMessage() for r in caplog.records if "sign-in locked" in r.getMessage()]
    assert len(logged) == 1
    assert "a name no account has" in logged[0]
    assert "Tr0ub4dor" not in caplog.text


def test_a_name_no_account_has_is_locked_the_same_way(town):
    for _ in range(5):
        attempt(town, "personne", "pas le bon mot de passe")
        attempt(town, MANAGER, "pas le bon mot de passe")
    unknown, known = attempt(town, "personne", "x"), attempt(town, MANAGER, "x")
    assert unknown.status_code == known.status_code == 429
    assert without_token(unknown.text).replace("personne", MANAGER) == without_token(known.text)


def without_token(page: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", page)


def test_the_lock_out_lasts_the_set_time_after_the_last_failure(town):
    failures_ago(town.storage, MANAGER, timedelta(minutes=14))
    assert login_status(town, MANAGER, PASSWORD) == 429
    with town.storage.write() as connection:
        login_failures.forget_account(connection, MANAGER)
    failures_ago(town.storage, MANAGER, timedelta(minutes=16))
    assert login_status(town, MANAGER, PASSWORD) == 303


def test_a_successful_sign_in_clears_the_names_failures(town):
    for _ in range(4):
        attempt(town, MANAGER, "pas le bon mot de passe")
    sign_in(town, MANAGER)
    for _ in range(4):
        assert attempt(town, MANAGER, "pas le bon mot de passe").status_code == 401
    assert login_status(town, MANAGER, PASSWORD) == 303


def test_one_address_trying_many_names_is_locked_out(strict_town):
    for name in ("alice", "bob", "carole"):
        assert attempt(strict_town, name, "pas le bon mot de passe").status_code == 401
    # A fourth name, though right this time, is refused from that address.
    assert login_status(strict_town, MANAGER, PASSWORD) == 429


def test_every_server_process_counts_the_same_failures(town):
    # A second process: its own app and storage on the same database.
    other_storage = Storage.from_url(town.settings.database_url, town.settings.timezone)
    other = AppServer(
        app=create_app(town.settings, other_storage), storage=other_storage, settings=town.settings
    )
    with other.clients:
        for server in (town, other, town, other, town):
            assert attempt(server, MANAGER, "pas le bon mot de passe").status_code == 401
        assert login_status(other, MANAGER, PASSWORD) == 429
    other_storage.close()


def test_failures_wait_longer_and_longer_up_to_a_second(town):
    started = time.monotonic()
    attempt(town, "personne", "x")
    first = time.monotonic() - started
    for _ in range(2):
        attempt(town, "personne", "x")
    started = time.monotonic()
    attempt(town, "personne", "x")
    fourth = time.monotonic() - started
    assert fourth >= throttle.delay_seconds(4) >= first - 0.2


def test_the_delays_grow_and_stop_at_a_second():
    delays = [throttle.delay_seconds(n) for n in range(0, 10)]
    assert delays[0] == 0
    assert delays == sorted(delays)
    assert max(delays) == throttle.MAX_DELAY_SECONDS == 1.0


NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
TIMES = st.lists(st.integers(min_value=0, max_value=3600), max_size=30).map(
    lambda seconds: [NOW - timedelta(seconds=s) for s in sorted(seconds, reverse=True)]
)


@given(failures=TIMES, limit=st.integers(min_value=1, max_value=8))
def test_a_lock_out_needs_limit_failures_within_the_window(failures, limit):
    end = throttle.locked_until(failures, limit, WINDOW)
    if end is None:
        # No `limit` failures ever fell within one window.
        assert all(
            failures[i + limit - 1] - failures[i] > WINDOW for i in range(len(failures) - limit + 1)
        )
    else:
        last = end - WINDOW
        assert last in failures
        within = [t for t in failures if last - WINDOW <= t <= last]
        assert len(within) >= limit


def test_the_lock_ends_a_window_after_the_last_failure():
    failures = [NOW - timedelta(minutes=m) for m in (10, 8, 6, 4, 2)]
    rule = throttle.Throttle(per_account=5, per_address=20, window=WINDOW)
    assert throttle.lock_end(rule, failures, failures, NOW) == NOW + timedelta(minutes=13)
    assert throttle.lock_end(rule, failures, failures, NOW + timedelta(minutes=13)) is None
    assert throttle.lock_end(rule, failures[1:], failures[1:], NOW) is None
