"""Test set-up. Kivy reads its environment at first import, so it is set here, before anything."""

import os

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONFIG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
if not os.environ.get("DISPLAY"):
    # Real pixels through EGL + Mesa llvmpipe, no X server needed.
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")

# Factories for real objects, one module per area so that they can grow apart.
pytest_plugins = [
    "tests.fixtures.server",
    "tests.fixtures.kiosk",
    "tests.fixtures.kiosk_app",
    "tests.fixtures.web",
    "tests.fixtures.demo_town",
    "tests.fixtures.browser",
    "tests.fixtures.fault_proxy",
    "tests.fixtures.postgres",
    "tests.fixtures.x_events",
]
