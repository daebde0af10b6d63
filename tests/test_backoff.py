"""Full-jitter backoff: the bounds hold for every attempt and every random draw."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.core.backoff import ceiling, delay_after_failure, next_delay

attempts = st.integers(min_value=0, max_value=10_000)
draws = st.floats(min_value=0.0, max_value=1.0)
bases = st.floats(min_value=0.01, max_value=60.0)
caps = st.floats(min_value=0.01, max_value=86_400.0)


@given(attempt=attempts, draw=draws, base=bases, cap=caps)
def test_delay_is_between_zero_and_the_capped_exponential(attempt, draw, base, cap):
    delay = next_delay(attempt, base=base, cap=cap, rand=lambda: draw)
    assert 0.0 <= delay <= min(cap, base * 2.0 ** min(attempt, 1000))


@given(attempt=st.integers(min_value=0, max_value=200), base=bases, cap=caps)
def test_the_ceiling_never_shrinks_as_failures_accumulate(attempt, base, cap):
    assert ceiling(attempt, base, cap) <= ceiling(attempt + 1, base, cap)


@given(attempt=attempts, draw=st.floats(allow_nan=False, allow_infinity=False))
def test_a_broken_random_source_cannot_escape_the_bounds(attempt, draw):
    assert 0.0 <= next_delay(attempt, rand=lambda: draw) <= 300.0


def test_full_jitter_uses_the_whole_range():
    assert next_delay(3, base=2.0, cap=300.0, rand=lambda: 0.0) == 0.0
    assert next_delay(3, base=2.0, cap=300.0, rand=lambda: 1.0) == 16.0
    assert next_delay(30, base=2.0, cap=300.0, rand=lambda: 1.0) == 300.0


@given(
    attempt=attempts,
    draw=draws,
    retry_after=st.one_of(st.none(), st.floats(min_value=-10, max_value=1e7)),
)
def test_retry_after_is_honoured_but_bounded(attempt, draw, retry_after):
    delay = delay_after_failure(attempt, retry_after, rand=lambda: draw, max_retry_after=3600.0)
    assert 0.0 <= delay <= max(300.0, 3600.0)
    if retry_after is not None and retry_after > 0:
        assert delay >= min(retry_after, 3600.0)


def test_negative_attempts_are_a_caller_bug():
    with pytest.raises(ValueError, match="attempt"):
        next_delay(-1)
