"""Charts drawn on the server as SVG with matplotlib `Figure` objects (no pyplot state), so the
same drawing goes into the pages and the PDF reports.

Each chart is a titled `<svg role="img">` whose text stays text; the pages put a table with the
same numbers next to it. Below-target points have their own marker shape, the bars of the
distribution have hatches as well as colours, and the heatmap writes each cell's number in it:
never colour alone.

The pages forbid inline CSS (Content-Security-Policy `style-src 'self'`), so matplotlib's
`style` attributes and `<style>` rule become SVG presentation attributes, and the heatmap is drawn
as vector cells rather than an embedded PNG: a chart needs neither inline CSS nor a `data:` image.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

import matplotlib
import matplotlib.colors
import matplotlib.patches
import matplotlib.ticker
import numpy
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

INK = "#1a2533"
MUTED = "#4a5566"
ACCENT = "#0b5cad"
BELOW = "#a1262b"
GRID = "#d3d9e2"
# Worst to best, then "no opinion": dark enough on white, told apart by hatches too.
SCALE_COLOURS = ["#a1262b", "#d9822b", "#6aa84f", "#17613a", "#9aa5b4"]
SCALE_HATCHES = ["xx", "//", "", "..", "--"]

_STYLE = {
    "svg.fonttype": "none",  # real text in the SVG: selectable, read by screen readers
    "text.parse_math": False,  # labels are plain text ("5 %", "$" in a name stays a "$")
    "svg.hashsalt": "qualivilles",  # stable ids, so the same figures give the same file
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.edgecolor": GRID,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
}


def _frozen(value: Any) -> Any:
    """Lists (of lists) as tuples, so a chart's arguments can key a cache."""
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    return value


def _remembered(draw: Callable[..., str]) -> Callable[..., str]:
    """The same figures always draw the same SVG (stable ids, no date), and drawing costs tens
    of milliseconds: a page viewed again, or its PDF, reuses the drawing."""

    @functools.lru_cache(maxsize=256)
    def cached(args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...]) -> str:
        return draw(*args, **dict(kwargs))

    @functools.wraps(draw)
    def chart(*args: Any, **kwargs: Any) -> str:
        return cached(_frozen(args), tuple(sorted((k, _frozen(v)) for k, v in kwargs.items())))

    return chart


def _margins(figure: Figure, *, left: float, right: float, top: float, bottom: float) -> None:
    """Fixed margins in inches, for charts whose labels have a known size: tight_layout
    measures every text once more before drawing, which costs as much as the drawing."""
    wide, high = figure.get_size_inches()
    figure.subplots_adjust(left=left / wide, right=1 - right / wide, top=1 - top / high,
                           bottom=bottom / high)  # fmt: skip


_TAG = re.compile(r"<[^<>]+>")  # matplotlib escapes "<" and ">" in text and attribute values
_STYLE_ATTRIBUTE = re.compile(r' style="([^"]*)"')
_DEFAULT_RULE = re.compile(r"<style[^>]*>\*\{([^{}]*)\}</style>")


def _attributes(declarations: str) -> str:
    """`fill: #fff; stroke-width: 1.0` as ` fill="#fff" stroke-width="1.0"`."""
    pairs = (d.split(":", 1) for d in declarations.split(";") if d.strip())
    return "".join(f' {name.strip()}="{value.strip()}"' for name, value in pairs)


def without_inline_css(svg: str) -> str:
    """matplotlib's SVG drawn the same without CSS, which a Content-Security-Policy without
    'unsafe-inline' would block: each `style` attribute's declarations become presentation
    attributes of its element, and the `*{…}` rule attributes of the root, which every element
    without its own inherits."""
    rule = _DEFAULT_RULE.search(svg)
    if rule is not None:
        svg = svg[: rule.start()] + svg[rule.end() :]
        svg = svg.replace("<svg", "<svg" + _attributes(rule.group(1)), 1)
    if "<style" in svg:
        raise ValueError("matplotlib wrote a style rule other than its default one")

    def tag(match: re.Match[str]) -> str:
        return _STYLE_ATTRIBUTE.sub(lambda m: _attributes(m.group(1)), match.group(0))

    return _TAG.sub(tag, svg)


def _svg(figure: Figure, title: str, description: str) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context(_STYLE):
        FigureCanvasSVG(figure).print_svg(buffer, metadata={"Date": None})
    svg = without_inline_css(buffer.getvalue())
    svg = svg[svg.index("<svg") :]
    # Drop matplotlib's fixed size so the chart follows its container; keep the viewBox.
    svg = re.sub(r'<svg([^>]*?) width="[^"]+" height="[^"]+"', r"<svg\1", svg, count=1)
    svg = svg.replace(
        "<svg",
        f'<svg role="img" aria-label="{escape(title)}" class="chart"',
        1,
    )
    head = f"<title>{escape(title)}</title><desc>{escape(description)}</desc>"
    return re.sub(r"(<svg[^>]*>)", lambda m: m.group(1) + head, svg, count=1)


def _decimal_axis(axis: Any, decimal: str) -> None:
    """Tick labels with the page language's decimal separator ("2,5" in French)."""
    axis.set_major_formatter(
        matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:g}".replace(".", decimal))
    )


@_remembered
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
    with matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(7.5, 2.8), dpi=100)
        axes = figure.add_subplot()
        xs = list(range(len(labels)))
        ys = [float("nan") if v is None else v for v in values]
        axes.plot(xs, ys, color=ACCENT, linewidth=2, marker="o", markersize=6, zorder=3)
        if any(t is not None for t in targets):
            spans = [(x, t) for x, t in zip(xs, targets, strict=True) if t is not None]
            axes.hlines([t for _, t in spans], [x - 0.5 for x, _ in spans],
                        [x + 0.5 for x, _ in spans], colors=INK, linestyles="--",
                        linewidth=1.2, label=target_label)  # fmt: skip
            low = [
                (x, v)
                for x, v, t in zip(xs, values, targets, strict=True)
                if v is not None and t is not None and v < t
            ]
            if low:
                axes.plot(
                    [x for x, _ in low],
                    [v for _, v in low],
                    linestyle="none",
                    marker="s",
                    markersize=9,
                    markerfacecolor="white",
                    markeredgecolor=BELOW,
                    markeredgewidth=2,
                    zorder=4,
                )
            axes.legend(loc="lower left", frameon=False, fontsize=9)
        axes.set_xticks(xs, labels, fontsize=8)
        shown = [v for v in [*values, *targets] if v is not None]
        if unit == "%":
            bottom = min([*shown, 100.0]) if shown else 0.0
            axes.set_ylim(max(0.0, bottom - 10), 100.5)
        _decimal_axis(axes.yaxis, decimal)
        axes.grid(axis="y", color=GRID, linewidth=0.8)
        axes.spines[["top", "right"]].set_visible(False)
        _margins(figure, left=0.5, right=0.15, top=0.15, bottom=0.35)  # "100" left, "10/26" under
        return _svg(figure, title, description)


@_remembered
def distribution_chart(
    questions: Sequence[str],
    choices: Sequence[str],
    shares: Sequence[Sequence[float]],
    *,
    title: str,
    description: str,
) -> str:
    """One horizontal 100 % bar per question, split by choice (worst first), with a legend."""
    with matplotlib.rc_context(_STYLE):
        height = 0.9 + 0.45 * max(1, len(questions))
        figure = Figure(figsize=(7.5, height), dpi=100)
        axes = figure.add_subplot()
        ys = list(range(len(questions)))[::-1]
        left = [0.0] * len(questions)
        for index, choice in enumerate(choices):
            widths = [row[index] for row in shares]
            axes.barh(
                ys,
                widths,
                left=left,
                color=SCALE_COLOURS[index % len(SCALE_COLOURS)],
                hatch=SCALE_HATCHES[index % len(SCALE_HATCHES)],
                edgecolor="white",
                linewidth=0.5,
                label=choice,
                height=0.6,
            )
            left = [a + b for a, b in zip(left, widths, strict=True)]
        axes.set_yticks(ys, questions)
        axes.set_xlim(0, 100)
        axes.set_xlabel("%")
        axes.spines[["top", "right"]].set_visible(False)
        # The legend sits at the bottom of the figure, under the "%" axis label; the question
        # names set the left margin: DejaVu Sans at 10 pt averages under 0.085 in a character
        # (measuring them for tight_layout cost as much as the drawing).
        figure.legend(
            *axes.get_legend_handles_labels(),
            loc="lower center",
            bbox_to_anchor=(0.5, 0.02),
            ncol=len(choices),
            frameon=False,
            fontsize=8,
        )
        longest = max((len(question) for question in questions), default=0)
        _margins(figure, left=0.2 + 0.085 * longest, right=0.2, top=0.1, bottom=0.8)
        return _svg(figure, title, description)


def _contrast(rgb: Sequence[float], other: Sequence[float]) -> float:
    """WCAG contrast ratio of two sRGB colours (0–1 channels)."""

    def luminance(colour: Sequence[float]) -> float:
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in colour]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(rgb), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def text_colour_on(background: Sequence[float]) -> str:
    """INK or white, whichever reads better on `background` (RGB, 0–1)."""
    ink = matplotlib.colors.to_rgb(INK)
    return INK if _contrast(background, ink) >= _contrast(background, (1, 1, 1)) else "white"


@_remembered
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
    with matplotlib.rc_context(_STYLE):
        width = max(4.5, min(7.5, 1.6 + 0.55 * len(columns)))
        figure = Figure(figsize=(width, 0.9 + 0.42 * max(1, len(rows))), dpi=100)
        axes = figure.add_subplot()
        shown = [v for row in values for v in row if v is not None]
        norm = matplotlib.colors.Normalize(vmin=0, vmax=max([*shown, 1.0]))
        cmap = matplotlib.colormaps["Blues"]
        grid = numpy.array([[numpy.nan if v is None else v for v in row] for row in values])
        # Vector cells (an image would be a PNG embedded as a `data:` URL), first row on top.
        cells = axes.pcolormesh(
            numpy.arange(len(columns) + 1) - 0.5,
            numpy.arange(len(rows) + 1) - 0.5,
            numpy.ma.masked_invalid(grid),
            cmap=cmap,
            norm=norm,
        )
        axes.invert_yaxis()
        shades = cmap(norm(grid))  # one call, not one per cell
        for y, row in enumerate(values):
            for x, value in enumerate(row):
                text = texts[y][x]
                if value is None:
                    if text:
                        axes.add_patch(
                            matplotlib.patches.Rectangle(
                                (x - 0.5, y - 0.5), 1, 1, facecolor="#eef1f5", hatch="///",
                                edgecolor=GRID, linewidth=0,
                            )
                        )  # fmt: skip
                        axes.text(x, y, text, ha="center", va="center", fontsize=8, color=MUTED)
                    continue
                colour = text_colour_on(shades[y][x][:3])
                axes.text(x, y, text, ha="center", va="center", fontsize=8, color=colour)
        axes.set_xticks(range(len(columns)), columns, fontsize=8)
        axes.set_yticks(range(len(rows)), rows, fontsize=9)
        axes.tick_params(length=0)
        axes.xaxis.tick_top()
        # White lines between cells: two line collections (minor ticks and a grid cost a tick
        # object per line).
        axes.vlines([x + 0.5 for x in range(len(columns) - 1)], -0.5, len(rows) - 0.5,
                    colors="white", linewidth=1.5)  # fmt: skip
        axes.hlines([y + 0.5 for y in range(len(rows) - 1)], -0.5, len(columns) - 0.5,
                    colors="white", linewidth=1.5)  # fmt: skip
        for spine in axes.spines.values():
            spine.set_visible(False)
        # Room for the day names, the hours on top and the scale (measuring every cell's text
        # for tight_layout doubled the drawing time).
        _margins(figure, left=0.55, right=0.75, top=0.35, bottom=0.08)
        if shown:
            # 32 bands read as a gradient (matplotlib would draw its 256 as an embedded PNG);
            # edges in each band's own colour hide the seams between them.
            bar = figure.colorbar(
                cells, ax=axes, fraction=0.04, pad=0.02,
                boundaries=numpy.linspace(0, norm.vmax, 33),
            )  # fmt: skip
            bar.solids.set_edgecolor("face")
            bar.locator = matplotlib.ticker.AutoLocator()
            bar.set_label(scale_label, fontsize=8)
            bar.ax.tick_params(labelsize=8)
            bar.outline.set_visible(False)
            _decimal_axis(bar.ax.yaxis, decimal)
        return _svg(figure, title, description)


@_remembered
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
    with matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(7.5, 3.0), dpi=100)
        axes = figure.add_subplot()
        xs = list(range(len(labels)))
        for x, value, text in zip(xs, values, value_texts, strict=True):
            if value is None:
                axes.text(x, 2, text, ha="center", va="bottom", fontsize=9, color=MUTED)
                continue
            low = target is not None and value < target
            axes.bar(
                x,
                value,
                width=0.6,
                color="white" if low else ACCENT,
                edgecolor=BELOW if low else ACCENT,
                hatch="//" if low else "",
                linewidth=1.5,
                zorder=3,
            )
            # A white backing keeps the value readable where it meets the target line.
            axes.text(
                x, value + 1.5, text, ha="center", va="bottom", fontsize=9, color=INK, zorder=5,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.5},
            )  # fmt: skip
        if target is not None:
            axes.axhline(target, color=INK, linestyle="--", linewidth=1.2, label=target_label)
            handles, _labels = axes.get_legend_handles_labels()
            if any(v is not None and v < target for v in values):
                handles.append(
                    matplotlib.patches.Patch(
                        facecolor="white", edgecolor=BELOW, hatch="//", label=below_label
                    )
                )
            axes.legend(
                handles=handles,
                loc="lower right",
                bbox_to_anchor=(1, 1),
                ncol=2,
                frameon=False,
                fontsize=9,
            )
        axes.set_xticks(
            xs, [f"{label}\n{note}" for label, note in zip(labels, notes, strict=True)], fontsize=8
        )
        axes.set_xlim(-0.6, len(labels) - 0.4)  # room for a note under the last band
        axes.set_ylim(0, 112)
        axes.set_yticks([0, 25, 50, 75, 100])
        axes.set_ylabel("%")
        axes.grid(axis="y", color=GRID, linewidth=0.8)
        axes.set_axisbelow(True)
        axes.spines[["top", "right"]].set_visible(False)
        # "100" on the left, the legend above, two lines (band, N) under each bar.
        _margins(figure, left=0.6, right=0.15, top=0.4, bottom=0.5)
        return _svg(figure, title, description)


@_remembered
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
    with matplotlib.rc_context(_STYLE):
        height = 0.9 + 0.42 * max(1, len(labels))
        figure = Figure(figsize=(7.5, height), dpi=100)
        axes = figure.add_subplot()
        ys = list(range(len(labels)))[::-1]
        axes.barh(ys, counts, height=0.6, color=ACCENT, zorder=3)
        widest = max(counts, default=0) or 1
        for y, count, text in zip(ys, counts, value_texts, strict=True):
            axes.text(count + widest * 0.02, y, text, va="center", fontsize=9, color=INK)
        axes.set_yticks(ys, labels)
        axes.set_xlim(0, widest * 1.35)  # room for the count written after the longest bar
        axes.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        axes.grid(axis="x", color=GRID, linewidth=0.8)
        axes.set_axisbelow(True)
        axes.spines[["top", "right"]].set_visible(False)
        running = axes.twiny()
        running.plot(cumulative, ys, color=INK, marker="D", markersize=5, linewidth=1.2,
                     linestyle="--", label=cumulative_label, zorder=4)  # fmt: skip
        running.set_xlim(0, 105)
        running.set_xlabel(cumulative_label + " (%)", fontsize=8)
        running.tick_params(labelsize=8)
        _decimal_axis(running.xaxis, decimal)
        running.spines[["right"]].set_visible(False)
        longest = max((len(label) for label in labels), default=0)
        _margins(figure, left=0.2 + 0.085 * longest, right=0.2, top=0.55, bottom=0.35)
        return _svg(figure, title, description)
