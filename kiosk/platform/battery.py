"""Battery level: Linux reads `/sys/class/power_supply`; other platforms answer None for now."""

from __future__ import annotations

import sys
from pathlib import Path

POWER_SUPPLY = Path("/sys/class/power_supply")


def battery_percent(platform: str | None = None) -> float | None:
    """The battery charge in percent (0–100), or None when there is no battery or no way to know."""
    implementation = _IMPLEMENTATIONS.get(_platform_key(platform or sys.platform))
    if implementation is None:
        return None
    try:
        return implementation()
    except OSError:
        return None


def _platform_key(platform: str) -> str:
    return "linux" if platform.startswith("linux") else platform


def _linux(root: Path = POWER_SUPPLY) -> float | None:
    """Average of the batteries' `capacity` files (mains adapters and peripherals ignored)."""
    levels: list[float] = []
    for supply in sorted(root.glob("*")) if root.is_dir() else []:
        kind = _read(supply / "type")
        scope = _read(supply / "scope")
        if kind != "Battery" or scope == "Device":  # "Device": a wireless mouse, not ours
            continue
        capacity = _read(supply / "capacity")
        if capacity is None:
            continue
        try:
            level = float(capacity)
        except ValueError:
            continue
        levels.append(min(max(level, 0.0), 100.0))
    return sum(levels) / len(levels) if levels else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None


_IMPLEMENTATIONS = {"linux": _linux}
