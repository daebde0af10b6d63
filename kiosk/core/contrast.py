"""WCAG 2.1 contrast ratio between two colours, to check the kiosk's palette (≥ 4.5:1)."""

from __future__ import annotations

from collections.abc import Sequence


def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def relative_luminance(rgb: Sequence[float]) -> float:
    """Relative luminance of an sRGB colour given as 0–1 floats (alpha ignored)."""
    r, g, b = (_linear(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: Sequence[float], background: Sequence[float]) -> float:
    """From 1 (same colour) to 21 (black on white)."""
    lighter, darker = sorted(
        (relative_luminance(foreground), relative_luminance(background)), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)
