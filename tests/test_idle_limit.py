"""The idle rule: a follow-up left alone frees the kiosk quickly; a comment being typed is asked
about first."""

from kiosk.core.idle import IdleLimit, idle_limit
from qualivilles.device_config import KioskSettings


def test_an_untouched_follow_up_frees_the_kiosk_after_a_few_seconds_without_asking():
    assert idle_limit(KioskSettings(), typing=False) == IdleLimit(8.0, ask_first=False)


def test_a_visitor_typing_a_comment_gets_the_long_time_out_and_is_asked_first():
    assert idle_limit(KioskSettings(), typing=True) == IdleLimit(30.0, ask_first=True)


def test_walking_away_after_the_main_tap_frees_the_kiosk_within_ten_seconds():
    assert idle_limit(KioskSettings(), typing=False).seconds <= 10


def test_both_limits_follow_the_desk_settings():
    settings = KioskSettings(follow_up_seconds=5, inactivity_timeout_seconds=45)
    assert idle_limit(settings, typing=False).seconds == 5
    assert idle_limit(settings, typing=True).seconds == 45
