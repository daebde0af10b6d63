"""The charts as markup read back: titled images whose numbers are text, below-target points and
bars told by shape and hatch as well as colour, French decimal commas, patterns named per chart,
and round tick values."""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ElementTree

from hypothesis import given
from hypothesis import strategies as st

from sync_server.web import charts
from sync_server.web.svg_canvas import nice_ticks

SVG = "{http://www.w3.org/2000/svg}"


def parsed(svg: str) -> ElementTree.Element:
    root = ElementTree.fromstring(svg)
    assert svg.startswith('<svg role="img"')
    assert root.get("viewBox")
    return root


def texts(root: ElementTree.Element) -> list[str]:
    return ["".join(e.itertext()) for e in root.iter(f"{SVG}text")]


def title_and_description(root: ElementTree.Element) -> tuple[str, str]:
    first, second = list(root)[:2]
    assert first.tag == f"{SVG}title"
    assert second.tag == f"{SVG}desc"
    return first.text, second.text


def test_the_trend_marks_each_month_below_its_target_with_a_hollow_square_and_leaves_gaps():
    svg = charts.trend_chart(
        ["09/25", "10/25", "11/25", "12/25"], [91.0, None, 72.5, 86.0], [85.0, 85.0, 87.5, None],
        title="Satisfaction <12 mois>", description="Quatre mois", target_label="Objectif",
        decimal=",",
    )  # fmt: skip
    root = parsed(svg)
    assert title_and_description(root) == ("Satisfaction <12 mois>", "Quatre mois")
    assert root.get("aria-label") == "Satisfaction <12 mois>"
    squares = [r for r in root.iter(f"{SVG}rect") if r.get("stroke") == charts.BELOW]
    assert len(squares) == 1  # 72.5 under 87.5; 86 has no target that month
    assert len(list(root.iter(f"{SVG}circle"))) == 3  # the hidden month is not drawn
    # One line from 11/25 to 12/25: the hidden month breaks it, 09/25 stands alone.
    assert len(list(root.iter(f"{SVG}polyline"))) == 1
    dashes = [e for e in root.iter(f"{SVG}line") if e.get("stroke-dasharray")]
    assert len(dashes) == 3 + 1  # a segment per month with a target, and the legend's sample
    assert "Objectif" in texts(root)
    assert {"09/25", "10/25", "11/25", "12/25"} <= set(texts(root))


def test_the_distribution_hatches_every_choice_but_one_and_names_them_in_a_legend():
    choices = ["Pas du tout", "Plutôt non", "Plutôt oui", "Tout à fait", "Sans avis"]
    root = parsed(
        charts.distribution_chart(
            ["Accueil", "Attente"], choices, [[5, 10, 35, 45, 5], [0, 20, 30, 40, 10]],
            title="Réponses", description="Le tableau qui suit donne les mêmes chiffres.",
        )
    )  # fmt: skip
    patterns = {p.get("id") for p in root.iter(f"{SVG}pattern")}
    assert len(patterns) == 4  # "Plutôt oui" is plain green
    filled = [r.get("fill") for r in root.iter(f"{SVG}rect")]
    for pattern in patterns:
        assert any(fill.startswith(f"url(#{pattern})") for fill in filled)
    # A share of 0 draws no bar: 2 × 5 segments less one, and a swatch per choice.
    segments = [r for r in root.iter(f"{SVG}rect") if r.get("stroke") == "#ffffff"]
    assert len(segments) == 9 + len(choices)
    assert set(choices) <= set(texts(root))
    assert {"Accueil", "Attente", "%"} <= set(texts(root))


def test_the_heatmap_writes_each_cell_and_scales_with_decimal_commas():
    root = parsed(
        charts.heatmap_chart(
            ["lun.", "mar."], ["9 h", "10 h"], [[2.5, None], [None, 1.0]],
            [["2,5\n(6)", "—\n(3)"], ["", "1,0\n(5)"]],
            title="Attente", description="Par heure", scale_label="Attente moyenne (min)",
            decimal=",",
        )
    )  # fmt: skip
    written = texts(root)
    assert {"2,5(6)", "—(3)", "1,0(5)"} <= set(written)
    assert "Attente moyenne (min)" in written
    assert "0,5" in written and "0.5" not in written  # noqa: PT018 - the scale's ticks
    hidden = [r for r in root.iter(f"{SVG}rect") if (r.get("fill") or "").startswith("url(")]
    assert len(hidden) == 1  # the hidden cell is hatched; the empty one is not drawn
    darkest = next(t for t in root.iter(f"{SVG}text") if "".join(t.itertext()) == "2,5(6)")
    assert darkest.get("fill") == "#ffffff"  # white on the darkest blue


def test_the_band_chart_hatches_bars_under_the_target_and_writes_each_value():
    root = parsed(
        charts.band_chart(
            ["< 5 min", "5–15 min", "> 15 min"], [92.0, None, 61.0], ["92 %", "masqué", "61 %"],
            ["N = 40", "N = 3", "N = 12"], 80.0, title="Selon l'attente",
            description="Trois tranches", target_label="Objectif 80 %",
            below_label="Sous l'objectif",
        )
    )  # fmt: skip
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("stroke") in (charts.ACCENT, charts.BELOW)]
    assert [b.get("stroke") for b in bars] == [charts.ACCENT, charts.BELOW, charts.BELOW]
    assert bars[1].get("fill").startswith("url(#")  # the hatched legend swatch is the last
    assert bars[2].get("fill") == bars[1].get("fill")
    assert {"92 %", "masqué", "61 %", "Objectif 80 %", "Sous l'objectif"} <= set(texts(root))
    assert "< 5 minN = 40" in texts(root)


def test_the_pareto_writes_the_counts_and_the_running_share_with_decimal_commas():
    root = parsed(
        charts.pareto_chart(
            ["L'attente", "Les locaux", "Autre chose"], [5, 2, 1], [62.5, 87.5, 100.0],
            ["5", "2", "1"], title="Raisons", description="Trois raisons",
            cumulative_label="Part cumulée", decimal=",",
        )
    )  # fmt: skip
    written = texts(root)
    assert {"L'attente", "Les locaux", "Autre chose", "Part cumulée (%)"} <= set(written)
    assert written.count("5") >= 1 and "100" in written  # noqa: PT018 - a count, a share tick
    assert len(list(root.iter(f"{SVG}path"))) == 3  # a diamond per reason


def test_patterns_are_named_per_chart_and_the_same_figures_draw_the_same_chart():
    def draw(title: str) -> str:
        return charts.band_chart(["a", "b"], [50.0, 95.0], ["50 %", "95 %"], ["N = 9", "N = 9"],
                                 80.0, title=title, description="", target_label="Objectif",
                                 below_label="Sous l'objectif")  # fmt: skip

    ids = [{p.get("id") for p in parsed(draw(t)).iter(f"{SVG}pattern")} for t in ("x", "y")]
    assert ids[0] and ids[1] and not ids[0] & ids[1]  # noqa: PT018 - two charts on one page
    assert draw("x") == draw("x")


@given(
    st.floats(-1000, 1000, allow_nan=False),
    st.floats(0.01, 2000, allow_nan=False),
    st.integers(2, 10),
    st.booleans(),
)
def test_ticks_are_round_evenly_spaced_and_within_the_range(low, span, most, integer):
    high = low + span
    ticks = nice_ticks(low, high, most, integer=integer)
    # A step under the span, so a tick falls in any range (a whole number in any of 1 or more).
    assert ticks or (integer and span < 1) or most < 3
    assert all(low - 1e-6 <= t <= high + 1e-6 for t in ticks) or len(ticks) == 1
    steps = {round(b - a, 6) for a, b in itertools.pairwise(ticks)}
    assert len(steps) <= 1
    if steps:
        [step] = steps
        assert len(ticks) <= most + 1 or (integer and step == 1)
        mantissa = step / 10 ** math.floor(math.log10(step))
        assert any(math.isclose(mantissa, m) for m in (1, 2, 2.5, 5, 10))
        if integer:
            assert all(t == int(t) for t in ticks)
