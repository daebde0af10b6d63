"""The settle rule: a tap within the settle time of a screen's appearance does not act on it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kiosk.core.tap_guard import SETTLE_SECONDS, settled

times = st.floats(min_value=0, max_value=1e6, allow_nan=False)


def test_a_double_tap_120_ms_apart_acts_once():
    shown_by_first_tap = 10.0
    assert not settled(shown_by_first_tap, shown_by_first_tap + 0.120)


def test_a_tap_after_the_settle_time_acts():
    assert settled(10.0, 10.0 + SETTLE_SECONDS)
    assert settled(None, 0.0)  # a screen never shown (first frame) has nothing to protect


@given(shown=times, delay=st.floats(min_value=0, max_value=10, allow_nan=False), settle=times)
def test_settled_exactly_when_the_settle_time_has_passed(shown, delay, settle):
    assert settled(shown, shown + delay, settle) == (shown + delay - shown >= settle)
