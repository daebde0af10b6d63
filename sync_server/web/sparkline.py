"""A trend as a few lines of SVG, small enough for a table cell of a PDF report.

The pages' charts (`charts`) suit a page; a PDF's table cell needs less, and every shape is
layout time for WeasyPrint. A sparkline is one polyline, a dashed target line and a dot per
month below target (a cross, not a colour alone). Pure: numbers in, markup out.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT, PAD = 60.0, 16.0, 2.0
INK, BELOW, GRID = "#0b5cad", "#a1262b", "#8792a2"


def _y(value: float, low: float, high: float) -> float:
    span = high - low or 1.0
    return round(HEIGHT - PAD - (value - low) / span * (HEIGHT - 2 * PAD), 2)


def sparkline(
    values: Sequence[float | None], target: float | None, label: str, *, floor: float = 50.0
) -> str:
    """Monthly values (None where hidden) against `target`, on a scale from `floor` (or the
    lowest value) to 100. Gaps stay gaps: a hidden month is not drawn as a fall."""
    shown = [v for v in values if v is not None]
    low = min([floor, *shown, *([target] if target is not None else [])])
    high = 100.0
    step = (WIDTH - 2 * PAD) / max(len(values) - 1, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="spark" viewBox="0 0 {WIDTH:g} {HEIGHT:g}"'
        f' role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
    ]
    if target is not None:
        y = _y(target, low, high)
        parts.append(
            f'<line x1="0" y1="{y}" x2="{WIDTH:g}" y2="{y}" stroke="{GRID}" stroke-width="0.6"'
            ' stroke-dasharray="2 1.5"/>'
        )
    run: list[str] = []
    runs = [run]
    for index, value in enumerate(values):
        if value is None:
            run = []
            runs.append(run)
            continue
        run.append(f"{round(PAD + index * step, 2)},{_y(value, low, high)}")
    for points in runs:
        if len(points) > 1:
            parts.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{INK}"'
                ' stroke-width="1.2"/>'
            )
    for index, value in enumerate(values):
        if value is None:
            continue
        x, y = round(PAD + index * step, 2), _y(value, low, high)
        if target is not None and value < target:
            parts.append(
                f'<path d="M{x - 1.5},{y - 1.5}l3,3m0,-3l-3,3" stroke="{BELOW}"'
                ' stroke-width="0.9"/>'
            )
        elif index == len(values) - 1 or len(shown) == 1:
            parts.append(f'<circle cx="{x}" cy="{y}" r="1.4" fill="{INK}"/>')
    parts.append("</svg>")
    return "".join(parts)
