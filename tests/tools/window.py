"""A Kivy window of a given size for the screenshot tools, each run in a process of its own
(the offscreen window keeps the shape it was created with)."""

from __future__ import annotations

import os


def open_window(size: str):
    """Kivy's window at `size` ("1280x800"); offscreen unless a display is set."""
    os.environ.update(
        KIVY_NO_ARGS="1", KIVY_NO_CONFIG="1", KIVY_NO_FILELOG="1", KIVY_NO_CONSOLELOG="1"
    )
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    from kivy.config import Config

    width, height = size.split("x")
    Config.set("graphics", "width", width)
    Config.set("graphics", "height", height)
    from kivy.base import EventLoop

    EventLoop.ensure_window()
    return EventLoop.window


def orientation(size: str) -> str:
    width, height = (int(part) for part in size.split("x"))
    return "landscape" if width >= height else "portrait"
