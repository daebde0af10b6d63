"""Charts drawn on the server as SVG with matplotlib `Figure` objects (no pyplot state), so the
same drawing goes into the pages and the PDF reports.

Each chart is a titled `<svg role="img">` whose text stays text; the pages put a table with the
same numbers next to it. Below-target points have their own marker shape, and the bars of the
distribution have hatches as well as colours: never colour alone.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from html import escape

import matplotlib
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
    "svg.hashsalt": "qualivilles",  # stable ids, so the same figures give the same file
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.edgecolor": GRID,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
}


def _svg(figure: Figure, title: str, description: str) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context(_STYLE):
        FigureCanvasSVG(figure).print_svg(buffer, metadata={"Date": None})
    svg = buffer.getvalue()
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


def trend_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    target: float | None,
    *,
    title: str,
    description: str,
    target_label: str,
    unit: str = "%",
) -> str:
    """A line per period; missing (hidden) periods are gaps; below target: hollow squares."""
    with matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(7.5, 2.8), dpi=100)
        axes = figure.add_subplot()
        xs = list(range(len(labels)))
        ys = [float("nan") if v is None else v for v in values]
        axes.plot(xs, ys, color=ACCENT, linewidth=2, marker="o", markersize=6, zorder=3)
        if target is not None:
            axes.axhline(target, color=INK, linestyle="--", linewidth=1.2, label=target_label)
            low = [(x, v) for x, v in zip(xs, values, strict=True) if v is not None and v < target]
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
        shown = [v for v in values if v is not None] + ([target] if target is not None else [])
        if unit == "%":
            bottom = min([*shown, 100.0]) if shown else 0.0
            axes.set_ylim(max(0.0, bottom - 10), 100.5)
        axes.grid(axis="y", color=GRID, linewidth=0.8)
        axes.spines[["top", "right"]].set_visible(False)
        figure.tight_layout()
        return _svg(figure, title, description)


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
        axes.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.35 if len(questions) > 2 else -0.6),
            ncol=len(choices),
            frameon=False,
            fontsize=8,
        )
        figure.tight_layout()
        return _svg(figure, title, description)
