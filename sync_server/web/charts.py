"""Charts drawn on the server as SVG markup (`svg_canvas`): a trend line, 100 % bars per
question, an hour × weekday heatmap, bars per waiting band and a Pareto of reasons.

Each chart is a titled `<svg role="img">` whose text stays text; the pages put a table with the
same numbers next to it. Below-target points have their own marker shape, bars have hatches as
well as colours, and the heatmap writes each cell's number in it: never colour alone. Nothing is
inline CSS or an embedded image (the pages' Content-Security-Policy allows neither).

Written by hand rather than with a plotting library: the shapes are few, and the first page
after a start no longer waits for a library's fonts and first figure (about a second).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sync_server.web.svg_canvas import Canvas, hex_rgb, label, nice_ticks, shade, text_width

INK = "#1a2533"
MUTED = "#4a5566"
ACCENT = "#0b5cad"
BELOW = "#a1262b"
GRID = "#d3d9e2"
# Worst to best, then "no opinion": dark enough on white, told apart by hatches too.
SCALE_COLOURS = ["#a1262b", "#d9822b", "#6aa84f", "#17613a", "#9aa5b4"]
SCALE_HATCHES = ["xx", "//", "", "..", "--"]
# Light to dark blue (ColorBrewer's "Blues"): the heatmap's scale, darker for longer waits.
BLUES = ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5",
         "#08519c", "#08306b"]  # fmt: skip
INCH = 72.0  # the canvas counts in points
TICK = 3.5  # a tick mark's length


@dataclass(frozen=True)
class _Plot:
    """The plotting area of a chart: data coordinates to canvas points."""

    left: float
    top: float
    right: float
    bottom: float
    x_range: tuple[float, float]
    y_range: tuple[float, float]

    def x(self, value: float) -> float:
        low, high = self.x_range
        return self.left + (value - low) / (high - low) * (self.right - self.left)

    def y(self, value: float) -> float:
        low, high = self.y_range
        return self.bottom - (value - low) / (high - low) * (self.bottom - self.top)


def _plot(
    canvas: Canvas,
    margins: tuple[float, float, float, float],
    x_range: tuple[float, float],
    y_range: tuple[float, float],
) -> _Plot:
    """The area inside `margins` (left, right, top, bottom, in inches) of `canvas`."""
    left, right, top, bottom = (m * INCH for m in margins)
    return _Plot(left, top, canvas.width - right, canvas.height - bottom, x_range, y_range)


def _frame(canvas: Canvas, plot: _Plot) -> None:
    """The left and bottom axis lines (no box: the top and right sides stay open)."""
    canvas.line(plot.left, plot.top, plot.left, plot.bottom, stroke=GRID, stroke_width=0.8)
    canvas.line(plot.left, plot.bottom, plot.right, plot.bottom, stroke=GRID, stroke_width=0.8)


def _y_axis(
    canvas: Canvas, plot: _Plot, ticks: Sequence[float], decimal: str, *, grid: bool
) -> None:
    for value in ticks:
        y = plot.y(value)
        if grid:
            canvas.line(plot.left, y, plot.right, y, stroke=GRID, stroke_width=0.8)
        canvas.line(plot.left - TICK, y, plot.left, y, stroke=INK, stroke_width=0.8)
        canvas.text(plot.left - TICK - 3, y, label(value, decimal), size=10, anchor="end",
                    fill=INK)  # fmt: skip


def _x_labels(canvas: Canvas, plot: _Plot, names: Sequence[str], size: float) -> None:
    """A category name (its lines) under each position 0, 1, …, with its tick."""
    for index, name in enumerate(names):
        x = plot.x(index)
        canvas.line(x, plot.bottom, x, plot.bottom + TICK, stroke=INK, stroke_width=0.8)
        lines = name.count("\n") + 1
        middle = plot.bottom + TICK + 2 + lines * size * 1.2 / 2
        canvas.text(x, middle, name, size=size, anchor="middle", fill=INK)


def _dashed_sample(canvas: Canvas, x: float, y: float) -> None:
    canvas.line(x, y, x + 20, y, stroke=INK, stroke_width=1.2, stroke_dasharray="4.4 1.9")


def trend_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    targets: Sequence[float | None],
    *,
    title: str,
    description: str,
    target_label: str,
    unit: str = "%",
    decimal: str = ".",
) -> str:
    """A line per period; missing (hidden) periods are gaps. Each period's own target (None:
    none then) is a dashed segment across its period; below it: hollow squares."""
    canvas = Canvas(7.5 * INCH, 2.8 * INCH, repr((title, labels, values, targets)))
    shown = [v for v in [*values, *targets] if v is not None]
    if unit == "%":
        y_range = (max(0.0, (min([*shown, 100.0]) if shown else 0.0) - 10), 100.5)
    else:
        y_range = (0.0, max([*shown, 1.0]) * 1.1)
    count = max(len(labels), 1)
    plot = _plot(canvas, (0.5, 0.15, 0.15, 0.35), (-0.6, count - 0.4), y_range)
    _y_axis(canvas, plot, nice_ticks(*y_range), decimal, grid=True)
    _frame(canvas, plot)
    _x_labels(canvas, plot, labels, 8)
    for x, target in enumerate(targets):
        if target is not None:
            y = plot.y(target)
            canvas.line(plot.x(x - 0.5), y, plot.x(x + 0.5), y, stroke=INK, stroke_width=1.2,
                        stroke_dasharray="4.4 1.9")  # fmt: skip
    runs: list[list[tuple[float, float]]] = [[]]
    for x, value in enumerate(values):
        if value is None:
            runs.append([])
        else:
            runs[-1].append((plot.x(x), plot.y(value)))
    for run in runs:
        if len(run) > 1:
            canvas.polyline(run, stroke=ACCENT, stroke_width=2)
    for x, (value, target) in enumerate(zip(values, targets, strict=True)):
        if value is None:
            continue
        cx, cy = plot.x(x), plot.y(value)
        canvas.circle(cx, cy, 3, fill=ACCENT)
        if target is not None and value < target:
            canvas.rect(cx - 4.5, cy - 4.5, 9, 9, fill="#ffffff", stroke=BELOW, stroke_width=2)
    if any(t is not None for t in targets):
        y = plot.bottom - 12
        _dashed_sample(canvas, plot.left + 8, y)
        canvas.text(plot.left + 34, y, target_label, size=9, fill=INK)
    return canvas.svg(title, description)


def _legend_row(
    canvas: Canvas,
    entries: Sequence[tuple[str, str, str]],
    centre: float,
    y: float,
    size: float,
) -> None:
    """Swatches (fill, edge) each followed by its name, in one row centred on `centre`."""
    widths = [20 + 5 + text_width(name, size) + 12 for _f, _e, name in entries]
    x = centre - sum(widths) / 2
    for (fill, edge, name), width in zip(entries, widths, strict=True):
        canvas.rect(x, y - 4, 20, 8, fill=fill, stroke=edge, stroke_width=0.5)
        canvas.text(x + 25, y, name, size=size, fill=INK)
        x += width


def distribution_chart(
    questions: Sequence[str],
    choices: Sequence[str],
    shares: Sequence[Sequence[float]],
    *,
    title: str,
    description: str,
) -> str:
    """One horizontal 100 % bar per question, split by choice (worst first), with a legend."""
    height = 0.9 + 0.45 * max(1, len(questions))
    canvas = Canvas(7.5 * INCH, height * INCH, repr((title, questions, choices, shares)))
    longest = max((len(question) for question in questions), default=0)
    rows = max(len(questions), 1)
    plot = _plot(canvas, (0.2 + 0.085 * longest, 0.2, 0.1, 0.8), (0.0, 100.0), (-0.6, rows - 0.4))
    fills = [
        canvas.hatch(SCALE_HATCHES[i % 5], "#ffffff", SCALE_COLOURS[i % 5])
        if SCALE_HATCHES[i % 5]
        else SCALE_COLOURS[i % 5]
        for i in range(len(choices))
    ]
    for value in nice_ticks(0, 100):
        x = plot.x(value)
        canvas.line(x, plot.bottom, x, plot.bottom + TICK, stroke=INK, stroke_width=0.8)
        canvas.text(x, plot.bottom + TICK + 8, label(value, "."), size=10, anchor="middle",
                    fill=INK)  # fmt: skip
    canvas.text(plot.x(50), plot.bottom + TICK + 24, "%", size=10, anchor="middle", fill=INK)
    band = plot.y(0) - plot.y(0.6)
    for index, (question, row) in enumerate(zip(questions, shares, strict=True)):
        y = plot.y(len(questions) - 1 - index)
        canvas.line(plot.left - TICK, y, plot.left, y, stroke=INK, stroke_width=0.8)
        canvas.text(plot.left - TICK - 3, y, question, size=10, anchor="end", fill=INK)
        start = 0.0
        for share, fill in zip(row, fills, strict=True):
            if share > 0:
                canvas.rect(plot.x(start), y - band / 2, plot.x(start + share) - plot.x(start),
                            band, fill=fill, stroke="#ffffff", stroke_width=0.5)  # fmt: skip
            start += share
    _frame(canvas, plot)
    entries = [(fill, "#ffffff", choice) for fill, choice in zip(fills, choices, strict=True)]
    _legend_row(canvas, entries, canvas.width / 2, canvas.height - 0.02 * INCH - 10, 8)
    return canvas.svg(title, description)


def _contrast(rgb: Sequence[float], other: Sequence[float]) -> float:
    """WCAG contrast ratio of two sRGB colours (0–1 channels)."""

    def luminance(colour: Sequence[float]) -> float:
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in colour]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(rgb), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def text_colour_on(background: str) -> str:
    """INK or white, whichever reads better on `background` (`#rrggbb`)."""
    back, ink = hex_rgb(background), hex_rgb(INK)
    return INK if _contrast(back, ink) >= _contrast(back, (1, 1, 1)) else "#ffffff"


def _colour_scale(
    canvas: Canvas, plot: _Plot, share: float, high: float, scale_label: str, decimal: str
) -> None:
    """The shades from 0 to `high` as 32 bands beside the grid, with its ticks and name;
    `share`: the grid's width had it no scale, of which the scale takes 6 %."""
    left, width = plot.right + 0.02 * share, 0.04 * share
    band = (plot.bottom - plot.top) / 32
    for index in range(32):
        colour = shade(BLUES, (index + 0.5) / 32)
        y = plot.bottom - (index + 1) * band
        canvas.rect(left, y, width, band + 0.3, fill=colour, stroke=colour, stroke_width=0.2)
    for value in nice_ticks(0, high):
        y = plot.bottom - value / high * (plot.bottom - plot.top)
        canvas.line(left + width, y, left + width + TICK, y, stroke=INK, stroke_width=0.8)
        canvas.text(left + width + TICK + 2, y, label(value, decimal), size=8, fill=INK)
    middle = (plot.top + plot.bottom) / 2
    canvas.text(left + width + 30, middle, scale_label, size=8, anchor="middle", fill=INK,
                rotate=True)  # fmt: skip


def heatmap_chart(
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float | None]],
    texts: Sequence[Sequence[str]],
    *,
    title: str,
    description: str,
    scale_label: str,
    decimal: str = ".",
) -> str:
    """A grid of cells shaded by value (darker: higher), each cell's number written in it.

    A cell with a text but no value (hidden by the minimum-N rule) is hatched grey; a cell
    with neither stays white. The colour scale is drawn only when a cell has a value: with
    every mean hidden it would have nothing to say."""
    width = max(4.5, min(7.5, 1.6 + 0.55 * len(columns)))
    height = 0.9 + 0.42 * max(1, len(rows))
    canvas = Canvas(width * INCH, height * INCH, repr((title, rows, columns, values, texts)))
    shown = [v for row in values for v in row if v is not None]
    # Room for the day names, the hours on top and, when drawn, the scale at the right.
    share = (width - 1.3) * INCH
    right = 0.75 + (0.06 * (width - 1.3) if shown else 0.0)
    plot = _plot(canvas, (0.55, right, 0.35, 0.08), (0, max(len(columns), 1)), (0, 1))
    high = max([*shown, 1.0])
    cell_width = (plot.right - plot.left) / max(len(columns), 1)
    cell_height = (plot.bottom - plot.top) / max(len(rows), 1)
    hidden = canvas.hatch("///", GRID, "#eef1f5")
    for y, (name, row) in enumerate(zip(rows, values, strict=True)):
        top = plot.top + y * cell_height
        canvas.text(plot.left - 6, top + cell_height / 2, name, size=9, anchor="end", fill=INK)
        for x, value in enumerate(row):
            text = texts[y][x]
            if value is None and not text:
                continue
            left = plot.left + x * cell_width
            colour = hidden if value is None else shade(BLUES, value / high)
            canvas.rect(left, top, cell_width, cell_height, fill=colour, stroke="#ffffff",
                        stroke_width=1.5)  # fmt: skip
            ink = MUTED if value is None else text_colour_on(colour)
            canvas.text(left + cell_width / 2, top + cell_height / 2, text, size=8,
                        anchor="middle", fill=ink)  # fmt: skip
    for x, name in enumerate(columns):
        canvas.text(plot.left + (x + 0.5) * cell_width, plot.top - 9, name, size=8,
                    anchor="middle", fill=INK)  # fmt: skip
    if shown:
        _colour_scale(canvas, plot, share, high, scale_label, decimal)
    return canvas.svg(title, description)


def band_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    value_texts: Sequence[str],
    notes: Sequence[str],
    target: float | None,
    *,
    title: str,
    description: str,
    target_label: str,
    below_label: str = "",
) -> str:
    """A bar per band with its value written above it and a note (N) under its name; a band
    without a shown value has no bar and its note says why. Below target: hatched bars."""
    canvas = Canvas(7.5 * INCH, 3.0 * INCH, repr((title, labels, values, value_texts, target)))
    plot = _plot(canvas, (0.6, 0.15, 0.4, 0.5), (-0.6, len(labels) - 0.4), (0.0, 112.0))
    _y_axis(canvas, plot, [0, 25, 50, 75, 100], ".", grid=True)
    canvas.text(plot.left - 32, (plot.top + plot.bottom) / 2, "%", size=10, anchor="middle",
                fill=INK, rotate=True)  # fmt: skip
    _frame(canvas, plot)
    names = [f"{name}\n{note}" for name, note in zip(labels, notes, strict=True)]
    _x_labels(canvas, plot, names, 8)
    below = canvas.hatch("//", BELOW, "#ffffff")
    half = (plot.x(0.3) - plot.x(0)) if labels else 0.0
    for x, value, text in zip(range(len(labels)), values, value_texts, strict=True):
        centre = plot.x(x)
        if value is None:
            canvas.text(centre, plot.y(2) - 6, text, size=9, anchor="middle", fill=MUTED)
            continue
        low = target is not None and value < target
        canvas.rect(centre - half, plot.y(value), 2 * half, plot.y(0) - plot.y(value),
                    fill=below if low else ACCENT, stroke=BELOW if low else ACCENT,
                    stroke_width=1.5)  # fmt: skip
    if target is not None:
        y = plot.y(target)
        canvas.line(plot.left, y, plot.right, y, stroke=INK, stroke_width=1.2,
                    stroke_dasharray="4.4 1.9")  # fmt: skip
    # Each value over its bar, on a white backing where it meets the target line.
    for x, value, text in zip(range(len(labels)), values, value_texts, strict=True):
        if value is not None:
            y, wide = plot.y(value + 1.5) - 6, text_width(text, 9) + 4
            canvas.rect(plot.x(x) - wide / 2, y - 7, wide, 14, fill="#ffffff")
            canvas.text(plot.x(x), y, text, size=9, anchor="middle", fill=INK)
    if target is not None:
        entries = [(target_label, None)]
        if any(v is not None and v < target for v in values):
            entries.append((below_label, below))
        x, y = plot.right - sum(32 + text_width(name, 9) for name, _ in entries), plot.top - 14
        for name, fill in entries:
            if fill is None:
                _dashed_sample(canvas, x, y)
            else:
                canvas.rect(x, y - 4, 20, 8, fill=fill, stroke=BELOW, stroke_width=1)
            canvas.text(x + 25, y, name, size=9, fill=INK)
            x += 32 + text_width(name, 9)
    return canvas.svg(title, description)


def pareto_chart(
    labels: Sequence[str],
    counts: Sequence[int],
    cumulative: Sequence[float],
    value_texts: Sequence[str],
    *,
    title: str,
    description: str,
    cumulative_label: str,
    decimal: str = ".",
) -> str:
    """The reasons most chosen first: a horizontal bar each with its count written at its end,
    and the running share of every reason chosen (the Pareto line) on a top axis in %."""
    height = 0.9 + 0.42 * max(1, len(labels))
    canvas = Canvas(7.5 * INCH, height * INCH, repr((title, labels, counts, cumulative)))
    widest = max(counts, default=0) or 1
    longest = max((len(name) for name in labels), default=0)
    rows = max(len(labels), 1)
    plot = _plot(canvas, (0.2 + 0.085 * longest, 0.2, 0.55, 0.35), (0.0, widest * 1.35),
                 (-0.6, rows - 0.4))  # fmt: skip
    for value in nice_ticks(0, widest * 1.35, integer=True):
        x = plot.x(value)
        canvas.line(x, plot.top, x, plot.bottom, stroke=GRID, stroke_width=0.8)
        canvas.line(x, plot.bottom, x, plot.bottom + TICK, stroke=INK, stroke_width=0.8)
        canvas.text(x, plot.bottom + TICK + 8, label(value, decimal), size=10, anchor="middle",
                    fill=INK)  # fmt: skip
    share = _Plot(plot.left, plot.top, plot.right, plot.bottom, (0.0, 105.0), plot.y_range)
    canvas.line(plot.left, plot.top, plot.right, plot.top, stroke=GRID, stroke_width=0.8)
    for value in nice_ticks(0, 105):
        x = share.x(value)
        canvas.line(x, plot.top - TICK, x, plot.top, stroke=INK, stroke_width=0.8)
        canvas.text(x, plot.top - TICK - 6, label(value, decimal), size=8, anchor="middle",
                    fill=INK)  # fmt: skip
    canvas.text(share.x(52.5), plot.top - TICK - 20, cumulative_label + " (%)", size=8,
                anchor="middle", fill=INK)  # fmt: skip
    band = plot.y(0) - plot.y(0.6)
    ys = [plot.y(len(labels) - 1 - index) for index in range(len(labels))]
    for y, name, count, text in zip(ys, labels, counts, value_texts, strict=True):
        canvas.rect(plot.left, y - band / 2, plot.x(count) - plot.left, band, fill=ACCENT)
        canvas.line(plot.left - TICK, y, plot.left, y, stroke=INK, stroke_width=0.8)
        canvas.text(plot.left - TICK - 3, y, name, size=10, anchor="end", fill=INK)
        canvas.text(plot.x(count + widest * 0.02), y, text, size=9, fill=INK)
    _frame(canvas, plot)
    points = [(share.x(value), y) for value, y in zip(cumulative, ys, strict=True)]
    if len(points) > 1:
        canvas.polyline(points, stroke=INK, stroke_width=1.2, stroke_dasharray="4.4 1.9")
    for x, y in points:
        canvas.path(f"M{x:.2f},{y - 3.5:.2f}l3.5,3.5l-3.5,3.5l-3.5,-3.5z", fill=INK)
    return canvas.svg(title, description)
