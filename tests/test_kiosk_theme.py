"""Every text colour of the kiosk keeps a contrast of at least 4.5:1 on its background."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk import theme
from kiosk.core.contrast import contrast_ratio

PAIRS = {
    "text on background": (theme.TEXT, theme.BACKGROUND),
    "muted text on background": (theme.MUTED_TEXT, theme.BACKGROUND),
    "text on a button": (theme.TEXT, theme.SURFACE),
    "muted text on a card": (theme.MUTED_TEXT, theme.SURFACE),
    "text on a pressed button": (theme.TEXT, theme.PRESSED),
    "white on a primary button": (theme.ON_PRIMARY, theme.PRIMARY),
    "closed screen": (theme.ON_NIGHT, theme.NIGHT),
    "smiley features on every face": (theme.FACE_OUTLINE, theme.FACE_COLOURS[0]),
    "a text field's placeholder": (theme.PLACEHOLDER, theme.SURFACE),
}


def test_greyed_keys_stay_readable_at_3_to_1_and_look_inactive():
    assert contrast_ratio(theme.DISABLED_TEXT, theme.SURFACE) >= 3
    assert contrast_ratio(theme.DISABLED_TEXT, theme.SURFACE) < contrast_ratio(
        theme.TEXT, theme.SURFACE
    )


@pytest.mark.parametrize("name", PAIRS)
def test_text_contrast_is_at_least_4_5(name):
    foreground, background = PAIRS[name]
    assert contrast_ratio(foreground, background) >= 4.5, name


def test_face_features_stand_out_on_every_face_colour():
    for colour in theme.FACE_COLOURS:
        assert contrast_ratio(theme.FACE_OUTLINE, colour) >= 4.5


def test_known_values():
    assert contrast_ratio((0, 0, 0), (1, 1, 1)) == pytest.approx(21)
    assert contrast_ratio((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)) == pytest.approx(1)


colours = st.tuples(*[st.floats(0, 1)] * 3)


@given(colours, colours)
def test_contrast_is_symmetric_and_between_1_and_21(a, b):
    ratio = contrast_ratio(a, b)
    assert 1 <= ratio <= 21.0000001
    assert ratio == pytest.approx(contrast_ratio(b, a))
