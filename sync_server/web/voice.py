"""What visitors said beyond the score, for one desk and period, ready for a template: the
reasons for dissatisfaction ranked (a Pareto chart and its table) and the waiting bands visitors
declared against the waits the agents measured. The same for the pages, the PDF reports and the
exports' labels."""

from __future__ import annotations

from typing import Any

from qualivilles.survey import localized
from sync_server import i18n
from sync_server.indicators.figures import DeskFigures
from sync_server.web import charts, units


def reasons(desk: DeskFigures, language: str) -> dict[str, Any] | None:
    """The ranked reasons of `desk` as table rows and a Pareto chart (None: the survey asks no
    reason, or nobody gave one in the period)."""
    chosen = [r for r in desk.reasons if r.count]
    if not chosen:
        return None
    _ = i18n.translations(language).gettext
    formats = units.formats(language)
    rows = [
        {
            "name": localized(r.label, language),
            "count": r.count,
            "share": formats["figure_value"](r.share, "%"),
            "cumulative": formats["figure_value"](r.cumulative, "%"),
        }
        for r in chosen
    ]
    described = [
        _("%(reason)s : %(n)s (%(share)s)") % {"reason": row["name"], "n": row["count"],
                                              "share": row["share"]}
        for row in rows
    ]  # fmt: skip
    svg = charts.pareto_chart(
        [row["name"] for row in rows],
        [row["count"] for row in rows],
        [r.cumulative or 0.0 for r in chosen],
        [str(row["count"]) for row in rows],
        title=_("Raisons d'insatisfaction · %(site)s") % {"site": desk.site_name},
        description="; ".join(described),
        cumulative_label=_("Part cumulée"),
        decimal=units.decimal_sign(language),
    )
    total = sum(r.count for r in chosen)
    return {"rows": rows, "svg": svg, "total": total}


def said_waits(desk: DeskFigures, language: str) -> dict[str, Any] | None:
    """Each declared waiting band with how many chose it and the median wait measured for the
    linked ones (None: nobody said how long they waited)."""
    if not any(band.answers for band in desk.said_waits):
        return None
    return {
        "rows": [
            {
                "name": localized(band.label, language),
                "answers": band.answers,
                "measured": band.measured,
            }
            for band in desk.said_waits
        ],
    }


def voice(desk: DeskFigures, language: str) -> dict[str, Any]:
    """Both parts for one desk: `reasons` and `said_waits`, each None when empty."""
    return {
        "desk": desk,
        "reasons": reasons(desk, language),
        "said_waits": said_waits(desk, language),
    }
