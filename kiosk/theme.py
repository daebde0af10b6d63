"""Colours and sizes of the kiosk. Every text colour here keeps a contrast of at least 4.5:1 on
the background it is used on (checked in tests/test_kiosk_theme.py)."""

from kivy.metrics import dp, sp

BACKGROUND = (0.969, 0.961, 0.941, 1)  # #F7F5F0, warm paper white
TEXT = (0.106, 0.106, 0.122, 1)  # #1B1B1F
MUTED_TEXT = (0.263, 0.263, 0.298, 1)  # #43434C
PRIMARY = (0.114, 0.306, 0.537, 1)  # #1D4E89 navy, white text on it
ON_PRIMARY = (1, 1, 1, 1)
SURFACE = (1, 1, 1, 1)
PRESSED = (0.855, 0.894, 0.949, 1)  # #DAE4F2, pale navy tint
OUTLINE = (0.114, 0.306, 0.537, 1)
PLACEHOLDER = (
    0.373,
    0.373,
    0.420,
    1,
)  # #5F5F6B, a placeholder on SURFACE: 6.3:1, lighter than TEXT
DISABLED_TEXT = (
    0.486,
    0.486,
    0.525,
    1,
)  # #7C7C86 on SURFACE: 4.1:1, above the 3:1 for inactive keys
FACE_OUTLINE = (0.106, 0.106, 0.122, 1)
NIGHT = (0.118, 0.137, 0.176, 1)  # #1E232D, dimmed "closed" screen
ON_NIGHT = (0.878, 0.894, 0.918, 1)  # #E0E4EA on NIGHT

# Smiley faces, worst to best. Colour only reinforces: shape and word carry the meaning.
FACE_COLOURS = (
    (0.898, 0.451, 0.451, 1),  # #E57373 soft red
    (1.000, 0.718, 0.302, 1),  # #FFB74D amber
    (0.682, 0.835, 0.506, 1),  # #AED581 light green
    (0.400, 0.733, 0.416, 1),  # #66BB6A green
)

TOUCH_TARGET = dp(96)  # kiosk targets: far above the 44 px minimum
BUTTON_HEIGHT = dp(88)
TITLE_SIZE = sp(40)
BODY_SIZE = sp(26)
SMALL_SIZE = sp(20)
