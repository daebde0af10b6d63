"""The staff PIN: scrypt hashes, the wrong-PIN lockout (properties), where the PIN comes from,
and `kiosk --staff-pin`, on real store files."""

from __future__ import annotations

import io
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk import cli
from kiosk.core.clock import ManualClock
from kiosk.core.device_state import CachedConfig
from kiosk.core.staff_access import (
    ATTEMPTS_KEY,
    LOCAL_PIN_KEY,
    PinOrigin,
    StaffAccess,
    StoreSettings,
    save_local_pin,
)
from kiosk.core.staff_pin import (
    DEVELOPMENT_PIN,
    FREE_ATTEMPTS,
    MAX_LOCKOUT_SECONDS,
    InvalidPin,
    InvalidPinHash,
    PinAttempts,
    PinOutcome,
    hash_pin,
    is_valid_pin_hash,
    locked_ms,
    lockout_seconds,
    parse_pin_hash,
    pin_hash_from_config,
    try_pin,
    verify_pin,
)
from kiosk.core.store import KioskStore
from kiosk.runtime import DATABASE_NAME

SALT = bytes(range(16))
HASH_4821 = hash_pin("4821", SALT)


# --- hashes ---------------------------------------------------------------------------------


def test_a_hash_is_scrypt_salt_and_hash_in_hex_and_verifies_only_its_pin():
    prefix, salt, digest = HASH_4821.split("$")
    assert (prefix, salt, len(digest)) == ("scrypt", SALT.hex(), 64)
    assert verify_pin("4821", HASH_4821)
    assert not verify_pin("4822", HASH_4821)
    assert not verify_pin("48210", HASH_4821)
    assert not verify_pin("", HASH_4821)
    assert not verify_pin("48a1", HASH_4821)


def test_each_hash_gets_its_own_salt():
    first, second = hash_pin("4821"), hash_pin("4821")
    assert first != second
    assert verify_pin("4821", first)
    assert verify_pin("4821", second)


@pytest.mark.parametrize("pin", ["", "123", "123456789", "12 34", "１２３４", "abcd", "12345a"])
def test_a_pin_is_four_to_eight_ascii_digits(pin):
    with pytest.raises(InvalidPin):
        hash_pin(pin)


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "scrypt",
        "scrypt$$",
        "bcrypt$00$00",
        f"scrypt${SALT.hex()}$zz",
        f"scrypt${SALT.hex()}$" + "00" * 31,
        "scrypt$00$" + "00" * 32,
        None,
        42,
    ],
)
def test_a_malformed_hash_is_refused_clearly(encoded):
    assert not is_valid_pin_hash(encoded)
    with pytest.raises(InvalidPinHash):
        parse_pin_hash(encoded)


@settings(max_examples=15, deadline=None)  # scrypt costs tens of ms per check
@given(pin=st.from_regex(r"[0-9]{4,8}", fullmatch=True))
def test_no_other_pin_verifies(pin):
    assert verify_pin(pin, HASH_4821) == (pin == "4821")


def test_the_server_hash_is_read_from_the_kiosk_section_when_well_formed():
    assert pin_hash_from_config({"kiosk": {"staff_pin_hash": HASH_4821}}) == HASH_4821
    assert pin_hash_from_config({"kiosk": {"staff_pin_hash": "1234"}}) is None
    assert pin_hash_from_config({"kiosk": {}}) is None
    assert pin_hash_from_config({"kiosk": None}) is None
    assert pin_hash_from_config(None) is None


# --- the lockout rule -----------------------------------------------------------------------


def test_three_free_tries_then_30_60_120_seconds_up_to_15_minutes():
    assert [lockout_seconds(n) for n in range(9)] == [0, 0, 0, 30, 60, 120, 240, 480, 900]
    assert lockout_seconds(10_000) == MAX_LOCKOUT_SECONDS


@given(st.integers(min_value=0, max_value=10_000))
def test_the_lockout_never_shrinks_with_more_failures_and_stays_capped(failures):
    assert lockout_seconds(failures) <= lockout_seconds(failures + 1) <= MAX_LOCKOUT_SECONDS


# A session of guesses: (milliseconds since the previous guess, is this guess the right PIN?).
guesses = st.lists(
    st.tuples(st.integers(min_value=0, max_value=2 * MAX_LOCKOUT_SECONDS * 1000), st.booleans()),
    max_size=40,
)


@given(guesses)
def test_while_locked_no_guess_is_even_checked_and_none_is_accepted(session):
    attempts, now = PinAttempts(), 5_000
    for gap, right in session:
        now += gap
        checked = []
        locked_before = locked_ms(attempts, now) > 0
        outcome, attempts = try_pin(attempts, now, lambda c=checked, r=right: c.append(1) or r)
        if locked_before:
            assert outcome is PinOutcome.LOCKED
            assert checked == []
        else:
            assert outcome is (PinOutcome.ACCEPTED if right else PinOutcome.WRONG)
        if outcome is PinOutcome.ACCEPTED:
            assert right
            assert not locked_before


@given(st.lists(st.integers(min_value=0, max_value=3_600_000), max_size=40))
def test_wrong_guesses_take_at_least_the_sum_of_the_lockouts(gaps):
    """Only wrong PINs: the n-th checked guess comes after every lockout before it."""
    attempts, now, first = PinAttempts(), 0, None
    end_of_lockout = 0
    for gap in gaps:
        now += gap
        outcome, attempts = try_pin(attempts, now, lambda: False)
        if outcome is PinOutcome.WRONG:
            first = now if first is None else first
            needed = sum(lockout_seconds(n) for n in range(attempts.failures)) * 1000
            assert now - first >= needed
            lockout_end = now + lockout_seconds(attempts.failures) * 1000
            assert lockout_end >= end_of_lockout  # a later failure never unlocks sooner
            end_of_lockout = lockout_end


@given(
    failures=st.integers(min_value=FREE_ATTEMPTS, max_value=60),
    extra_ms=st.integers(min_value=0, max_value=10**9),
)
def test_the_right_pin_after_the_lockout_works_and_resets_everything(failures, extra_ms):
    attempts = PinAttempts(failures, last_failure_ms=1_000)
    now = 1_000 + lockout_seconds(failures) * 1000 + extra_ms
    outcome, after = try_pin(attempts, now, lambda: True)
    assert (outcome, after) == (PinOutcome.ACCEPTED, PinAttempts())
    outcome, _ = try_pin(attempts, now - extra_ms - 1, lambda: True)
    assert outcome is PinOutcome.LOCKED


def test_after_a_reboot_the_lockout_restarts_instead_of_lasting_for_the_old_uptime():
    locked = PinAttempts(failures=4, last_failure_ms=9_000_000)  # two and a half hours of uptime
    assert locked_ms(locked, 2_000) == 60_000  # monotonic clock back at 2 s: a full minute again
    assert try_pin(locked, 2_000, lambda: True)[0] is PinOutcome.LOCKED


def test_an_unreadable_stored_history_locks_rather_than_opens():
    attempts = PinAttempts.from_json({"failures": "many"})
    assert locked_ms(attempts, 1_000) == FIRST_LOCKOUT_MS
    assert PinAttempts.from_json(PinAttempts(5, 77).to_json()) == PinAttempts(5, 77)


FIRST_LOCKOUT_MS = lockout_seconds(FREE_ATTEMPTS) * 1000


# --- StaffAccess on a real store ------------------------------------------------------------


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def store(tmp_path, clock):
    with KioskStore(tmp_path / DATABASE_NAME, clock) as opened:
        yield opened


def test_without_any_pin_the_development_pin_opens_and_says_so(store):
    access = StaffAccess(store)
    assert access.origin is PinOrigin.DEVELOPMENT
    assert access.try_pin("9999") is PinOutcome.WRONG
    assert access.try_pin(DEVELOPMENT_PIN) is PinOutcome.ACCEPTED


def test_a_local_pin_replaces_the_development_pin_and_is_stored_hashed(store):
    save_local_pin(store, "4821")
    access = StaffAccess(store)
    assert access.origin is PinOrigin.LOCAL
    stored = StoreSettings(store).get(LOCAL_PIN_KEY)
    assert stored.startswith("scrypt$")
    assert "4821" not in stored
    assert access.try_pin(DEVELOPMENT_PIN) is PinOutcome.WRONG
    assert access.try_pin("4821") is PinOutcome.ACCEPTED


def test_the_servers_pin_wins_over_the_local_one(store):
    save_local_pin(store, "4821")
    store.save_config(CachedConfig({"kiosk": {"staff_pin_hash": hash_pin("7364")}}, None))
    access = StaffAccess(store)
    assert access.origin is PinOrigin.SERVER
    assert access.try_pin("4821") is PinOutcome.WRONG
    assert access.try_pin("7364") is PinOutcome.ACCEPTED


def test_a_lockout_survives_reopening_the_screen_and_restarting_the_app(tmp_path, store, clock):
    save_local_pin(store, "4821")
    access = StaffAccess(store)
    for _ in range(FREE_ATTEMPTS):
        assert access.try_pin("0000") is PinOutcome.WRONG
    assert access.free_attempts_left() == 0
    assert access.locked_seconds() == 30
    with KioskStore(tmp_path / DATABASE_NAME, clock) as reopened:  # a new process
        again = StaffAccess(reopened)
        assert again.try_pin("4821") is PinOutcome.LOCKED
        clock.advance(29.5)
        assert again.locked_seconds() == 0.5
        clock.advance(0.5)
        assert again.try_pin("4821") is PinOutcome.ACCEPTED
    assert StoreSettings(store).get(ATTEMPTS_KEY) is None  # reset, durably


# --- kiosk --staff-pin ------------------------------------------------------------------------


def test_kiosk_staff_pin_saves_a_hash_and_exits(tmp_path, capsys):
    assert cli.main(["--data-dir", str(tmp_path), "--staff-pin", "4821"]) == 0
    assert "staff PIN saved" in capsys.readouterr().out
    with KioskStore(tmp_path / DATABASE_NAME) as store:
        assert StaffAccess(store).origin is PinOrigin.LOCAL
        assert StaffAccess(store).try_pin("4821") is PinOutcome.ACCEPTED


def test_kiosk_staff_pin_reads_standard_input_with_a_dash(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("735190\n"))
    assert cli.main(["--data-dir", str(tmp_path), "--staff-pin", "-"]) == 0
    with KioskStore(tmp_path / DATABASE_NAME) as store:
        assert verify_pin("735190", StoreSettings(store).get(LOCAL_PIN_KEY))


def test_kiosk_staff_pin_refuses_a_pin_that_is_not_digits_and_changes_nothing(tmp_path, capsys):
    assert cli.main(["--data-dir", str(tmp_path), "--staff-pin", "12ab"]) == 2
    assert "4 to 8 digits" in capsys.readouterr().err
    with KioskStore(tmp_path / DATABASE_NAME) as store:
        assert StaffAccess(store).origin is PinOrigin.DEVELOPMENT
