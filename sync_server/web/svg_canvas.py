"""The few SVG shapes the charts draw, written as markup: rectangles, lines, text, hatch patterns.

Every look is a presentation attribute (the pages' Content-Security-Policy forbids inline CSS),
text stays `<text>` (selectable, read by screen readers) and nothing is embedded as an image.
Sizes are in points (1/72 in), so a 7.5 in wide chart is 540 units wide; the SVG has a viewBox
and no fixed size, so it follows its container.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from html import escape

FONT = "DejaVu Sans, Verdana, sans-serif"
# DejaVu Sans's characters average under 0.6 em: a label's width without measuring it.
EM_WIDTH = 0.6


def text_width(text: str, size: float) -> float:
    """The width a line of `text` takes at `size` points, near enough to lay out margins."""
    return max((len(line) for line in text.split("\n")), default=0) * size * EM_WIDTH


def number(value: float) -> str:
    """A coordinate as short as it reads: `12.5`, `40`, never `40.000000001`."""
    return f"{round(value, 2):g}"


def label(value: float, decimal: str) -> str:
    """A tick's number with the page language's decimal sign ("2,5" in French)."""
    return f"{value:g}".replace(".", decimal)


def nice_ticks(low: float, high: float, most: int = 6, *, integer: bool = False) -> list[float]:
    """Round values from `low` to `high` (both included when round), at most `most` + 1 of them,
    spaced 1, 2, 2.5 or 5 times a power of ten (only whole numbers with `integer`)."""
    span = high - low
    if span <= 0:
        return [low]
    power = 10 ** math.floor(math.log10(span / most))
    steps = [1, 2, 5, 10] if integer else [1, 2, 2.5, 5, 10]
    step = next(s * power for s in steps if span / (s * power) <= most)
    if integer:
        step = max(1.0, round(step))
    first = math.ceil(low / step - 1e-9) * step
    count = math.floor((high - first) / step + 1e-9)
    return [round(first + i * step, 10) for i in range(count + 1)]


def hex_rgb(colour: str) -> tuple[float, float, float]:
    """`#1a2533` as (r, g, b), each 0–1."""
    value = colour.lstrip("#")
    return (int(value[0:2], 16) / 255, int(value[2:4], 16) / 255, int(value[4:6], 16) / 255)


def rgb_hex(rgb: Sequence[float]) -> str:
    return "#" + "".join(f"{round(max(0.0, min(1.0, c)) * 255):02x}" for c in rgb)


def shade(stops: Sequence[str], fraction: float) -> str:
    """The colour at `fraction` (0–1) along evenly spaced `stops`, mixed linearly."""
    fraction = max(0.0, min(1.0, fraction))
    position = fraction * (len(stops) - 1)
    index = min(int(position), len(stops) - 2)
    within = position - index
    low, high = hex_rgb(stops[index]), hex_rgb(stops[index + 1])
    return rgb_hex([a + (b - a) * within for a, b in zip(low, high, strict=True)])


def _attributes(values: dict[str, object]) -> str:
    """Keyword names as SVG attributes (`stroke_width` → `stroke-width`); None leaves one out."""
    return "".join(
        f' {name.rstrip("_").replace("_", "-")}="{escape(str(value))}"'
        for name, value in values.items()
        if value is not None
    )


# Hatch lines in a 6-unit tile: crossed, diagonal, denser diagonal, level.
_HATCHES = {
    "xx": "M0,0L6,6M6,0L0,6",
    "//": "M0,6L6,0M-1,1L1,-1M5,7L7,5",
    "///": "M0,4L4,0M0,8L8,0M2,8L8,2",
    "--": "M0,3H6",
}


class Canvas:
    """One chart's SVG, drawn shape by shape; `svg()` gives the titled document."""

    def __init__(self, width: float, height: float, seed: str) -> None:
        """`seed`: what the chart shows (its title and numbers), which names its patterns: unique
        to it on a page of several charts, and the same each time the same figures are drawn."""
        self.width, self.height, self._seed = width, height, seed
        self._defs: dict[str, str] = {}
        self._parts: list[str] = []

    def rect(self, x: float, y: float, width: float, height: float, **style: object) -> None:
        self._parts.append(
            f'<rect x="{number(x)}" y="{number(y)}" width="{number(max(width, 0))}"'
            f' height="{number(max(height, 0))}"{_attributes(style)}/>'
        )

    def line(self, x1: float, y1: float, x2: float, y2: float, **style: object) -> None:
        self._parts.append(
            f'<line x1="{number(x1)}" y1="{number(y1)}" x2="{number(x2)}" y2="{number(y2)}"'
            f"{_attributes(style)}/>"
        )

    def polyline(self, points: Sequence[tuple[float, float]], **style: object) -> None:
        joined = " ".join(f"{number(x)},{number(y)}" for x, y in points)
        self._parts.append(f'<polyline points="{joined}" fill="none"{_attributes(style)}/>')

    def path(self, d: str, **style: object) -> None:
        self._parts.append(f'<path d="{d}"{_attributes(style)}/>')

    def circle(self, x: float, y: float, radius: float, **style: object) -> None:
        self._parts.append(
            f'<circle cx="{number(x)}" cy="{number(y)}" r="{number(radius)}"{_attributes(style)}/>'
        )

    def text(
        self,
        x: float,
        y: float,
        content: str,
        *,
        size: float,
        anchor: str = "start",
        fill: str,
        rotate: bool = False,
        line_height: float = 1.2,
    ) -> None:
        """`content` centred vertically on `y` (each "\\n" a line), aligned on `x` by `anchor`;
        `rotate` turns it a quarter anticlockwise (a vertical axis's name)."""
        lines = content.split("\n")
        step = size * line_height
        first = y - (len(lines) - 1) * step / 2 + size * 0.35
        turn = f' transform="rotate(-90 {number(x)} {number(y)})"' if rotate else ""
        head = (
            f'<text x="{number(x)}" y="{number(first)}" font-size="{number(size)}"'
            f' text-anchor="{anchor}" fill="{fill}"{turn}>'
        )
        if len(lines) == 1:
            self._parts.append(f"{head}{escape(content)}</text>")
            return
        spans = "".join(
            f'<tspan x="{number(x)}" dy="{0 if i == 0 else number(step)}">{escape(line)}</tspan>'
            for i, line in enumerate(lines)
        )
        self._parts.append(f"{head}{spans}</text>")

    def hatch(self, kind: str, colour: str, background: str) -> str:
        """A fill of `background` crossed by `kind`'s lines ("xx", "//", "///", "--") or dots
        (".."), in `colour`; the fill value falls back to `background` alone."""
        key = f"{kind}|{colour}|{background}"
        if key not in self._defs:
            tile = f'<rect width="6" height="6" fill="{background}"/>'
            if kind == "..":
                tile += f'<circle cx="1.5" cy="1.5" r="0.9" fill="{colour}"/>'
                tile += f'<circle cx="4.5" cy="4.5" r="0.9" fill="{colour}"/>'
            else:
                tile += f'<path d="{_HATCHES[kind]}" stroke="{colour}" stroke-width="0.9"/>'
            self._defs[key] = tile
        return f"url(#{self._pattern_id(key)}) {background}"

    def _pattern_id(self, key: str) -> str:
        return "p" + hashlib.blake2s(f"{self._seed}|{key}".encode()).hexdigest()[:10]

    def svg(self, title: str, description: str) -> str:
        """The chart as `<svg role="img">`, its title and description first."""
        patterns = "".join(
            f'<pattern id="{self._pattern_id(key)}" patternUnits="userSpaceOnUse" width="6"'
            f' height="6">{tile}</pattern>'
            for key, tile in self._defs.items()
        )
        defs = f"<defs>{patterns}</defs>" if patterns else ""
        return (
            f'<svg role="img" aria-label="{escape(title)}" class="chart"'
            f' xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {number(self.width)}'
            f' {number(self.height)}" font-family="{FONT}" stroke-linejoin="round"'
            # Anchors stay physical on a right-to-left page; each label's text still reads
            # in its own direction.
            f' stroke-linecap="butt" direction="ltr"><title>{escape(title)}</title>'
            f"<desc>{escape(description)}</desc>{defs}"
            f'<rect width="{number(self.width)}" height="{number(self.height)}" fill="#ffffff"/>'
            f"{''.join(self._parts)}</svg>"
        )
