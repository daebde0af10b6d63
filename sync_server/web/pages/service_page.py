"""A service's page: its desks' figures for a period, the 12-month trend, the distribution per
question, waits, and the period's comments."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from babel.dates import get_day_names
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from sync_server import i18n
from sync_server.access import Permission, may
from sync_server.api.deps import SettingsDep, StorageDep
from sync_server.comments.reading import PLACEHOLDERS, shown
from sync_server.indicators import pipeline
from sync_server.indicators.figures import Band, DeskFigures, heat_grid
from sync_server.indicators.formulas import WEEKDAYS, Cell
from sync_server.indicators.periods import last_months
from sync_server.indicators.query import SATISFACTION, IndicatorQuery, Rules, Scope
from sync_server.settings import Settings
from sync_server.storage import Storage, quality, town
from sync_server.storage import triage as triage_storage
from sync_server.web import charts, labels, units, voice
from sync_server.web.access import ServiceReader, nav_context
from sync_server.web.figures import desk_figures, today
from sync_server.web.labels import N_
from sync_server.web.period_choice import choose, period_label, picker
from sync_server.web.snapshot import one_snapshot
from sync_server.web.templating import environment, page_language, render

router = APIRouter(include_in_schema=False)
TREND_MONTHS = 12


def trend(
    storage: Storage, settings: Settings, service: str, month: Any, language: str
) -> list[dict[str, Any]]:
    """Per desk of `service`: the last 12 months' satisfaction, as rows and an SVG chart, each
    month against the target that applied to it."""
    months = last_months(month, TREND_MONTHS)
    # The trend shows satisfaction; the wait section has its own period.
    query = IndicatorQuery(
        month, Scope.of(services=[service]), Rules.from_settings(settings), SATISFACTION
    )
    rows = pipeline.compute_months(storage, query, TREND_MONTHS)
    by_site: dict[str, list[Any]] = {}
    for row in rows:
        by_site.setdefault(row.site, []).append(row)
    _ = i18n.translations(language).gettext
    shown = units.formats(language)
    result = []
    for site, site_rows in by_site.items():
        site_rows.sort(key=lambda r: r.period)
        points = [
            {
                "label": period_label(m, language),
                "short": f"{m.start:%m/%y}",
                "figure": r.figures["satisfaction_rate"],
            }
            for m, r in zip(months, site_rows, strict=True)
        ]
        title = _("Satisfaction globale sur 12 mois · %(site)s") % {"site": site_rows[0].site_name}
        values = [None if p["figure"].hidden else p["figure"].value for p in points]
        targets = [p["figure"].target for p in points]
        described = [
            _("%(month)s : %(value)s (objectif %(target)s)")
            % {
                "month": p["label"],
                "value": shown["measure"](p["figure"]),
                "target": shown["target_value"](p["figure"].target, "%"),
            }
            for p in points
        ]
        if len(set(targets)) == 1 and targets[0] is not None:
            target_label = _("Objectif %(target)s") % {
                "target": shown["target_value"](targets[0], "%")
            }
        else:
            target_label = _("Objectif en vigueur chaque mois")
        svg = charts.trend_chart(
            [p["short"] for p in points],
            values,
            targets,
            title=title,
            description="; ".join(described),
            target_label=target_label,
            decimal=units.decimal_sign(language),
        )
        result.append({"site": site, "site_name": site_rows[0].site_name, "points": points,
                       "svg": svg})  # fmt: skip
    return result


def distribution(row: DeskFigures, language: str) -> dict[str, Any]:
    """The distribution per smiley question of one desk, as table rows and an SVG chart."""
    _ = i18n.translations(language).gettext
    choices = list(labels.CHOICE_NAMES)
    questions, shares, table = [], [], []
    for question in row.questions.values():
        total = sum(question.distribution.values())
        name = _(labels.QUESTION_NAMES.get(question.question_id, question.question_id))
        counts = [question.distribution.get(c, 0) for c in choices]
        table.append({"name": name, "counts": counts, "total": total, "rate": question.rate})
        if total:
            questions.append(name)
            shares.append([100 * n / total for n in counts])
    svg = None
    if questions:
        svg = charts.distribution_chart(
            questions,
            [_(labels.CHOICE_NAMES[c]) for c in choices],
            shares,
            title=_("Répartition des réponses par question · %(site)s") % {"site": row.site_name},
            description=_("Le tableau qui suit donne les mêmes chiffres."),
        )
    return {"choices": [labels.CHOICE_NAMES[c] for c in choices], "rows": table, "svg": svg}


def band_name(band: Band, language: str) -> str:
    _ = i18n.translations(language).gettext
    if band.high is None:
        return _("%(low)s min et plus") % {"low": band.low}
    if band.low == 0:
        return _("moins de %(high)s min") % {"high": band.high}
    return _("%(low)s à %(high)s min") % {"low": band.low, "high": band.high}


def heatmap(desk: DeskFigures, language: str, min_answers: int) -> dict[str, Any] | None:
    """The hour × weekday grid of one desk as table rows and an SVG heatmap (None: no visit)."""
    days, hours, grid = heat_grid(desk.cells)
    if not days:
        return None
    _ = i18n.translations(language).gettext
    number = environment(language).filters["number"]
    locale = i18n.BABEL_LOCALES[language]
    index = {name: i for i, name in enumerate(WEEKDAYS)}
    short_days = [get_day_names("abbreviated", locale=locale)[index[d]] for d in days]
    long_days = [get_day_names("wide", locale=locale)[index[d]] for d in days]
    hour_labels = [_("%(hour)s h") % {"hour": hour} for hour in hours]

    def mean(cell: Cell | None) -> str:
        if cell is None:
            return ""
        return "—" if cell.mean_wait_minutes is None else number(cell.mean_wait_minutes, 1)

    svg = charts.heatmap_chart(
        short_days,
        hour_labels,
        [[c.mean_wait_minutes if c else None for c in row] for row in grid],
        [[f"{mean(c)}\n({c.arrivals})" if c else "" for c in row] for row in grid],
        title=_("Attente moyenne par heure et jour d'arrivée · %(site)s")
        % {"site": desk.site_name},
        description=_(
            "Dans chaque case : l'attente moyenne en minutes, puis entre parenthèses le nombre "
            "d'arrivées ; « — » : moins de %(min)s attentes mesurées. Le tableau qui suit donne "
            "les mêmes chiffres."
        )
        % {"min": min_answers},
        scale_label=_("Attente moyenne (min)"),
        decimal=units.decimal_sign(language),
    )
    rows = [
        {"day": day, "cells": [{"cell": c, "mean": mean(c)} for c in row]}
        for day, row in zip(long_days, grid, strict=True)
    ]
    return {"svg": svg, "hours": hour_labels, "rows": rows}


def bands(desk: DeskFigures, language: str) -> dict[str, Any]:
    """Satisfaction per waiting band of one desk as table rows and an SVG chart (no chart when
    no answer is linked to a measured visit), against the desk's satisfaction target."""
    _ = i18n.translations(language).gettext
    shown = units.formats(language)
    target = desk.figures["satisfaction_rate"].target
    rows = [{"name": band_name(b, language), "band": b} for b in desk.bands]
    svg = None
    if desk.linked_answers:
        values = [None if b.rate.hidden else b.rate.value for b in desk.bands]
        texts = [
            shown["measure"](b.rate)
            if not b.rate.hidden
            else (_("aucune réponse") if b.rate.reason == "no_data" else _("masqué"))
            for b in desk.bands
        ]
        notes = [f"N = {b.rate.n}" for b in desk.bands]
        described = [
            f"{row['name']} : {text} (N = {row['band'].rate.n})"
            for row, text in zip(rows, texts, strict=True)
        ]
        svg = charts.band_chart(
            [row["name"] for row in rows],
            values,
            texts,
            notes,
            target,
            title=_("Satisfaction selon l'attente mesurée · %(site)s") % {"site": desk.site_name},
            description="; ".join(described),
            below_label=_("Sous l'objectif"),
            target_label=""
            if target is None
            else _("Objectif %(target)s") % {"target": shown["target_value"](target, "%")},
        )
    return {"rows": rows, "svg": svg}


# The key figures of the waiting section, in order; each figure carries its unit.
WAIT_ROWS = (
    ("visits", N_("Passages enregistrés par les agents")),
    ("mean_wait_minutes", N_("Attente moyenne")),
    ("median_wait_minutes", N_("Attente médiane")),
    ("p90_wait_minutes", N_("Attente au 90e centile (9 visiteurs sur 10 attendent moins)")),
    ("max_wait_minutes", N_("Attente la plus longue")),
    ("within_threshold_rate", N_("Reçus en %(threshold)s min au plus (engagement)")),
    ("walk_out_rate", N_("Partis sans être reçus")),
    ("unknown_outcomes", N_("Issue inconnue (encore en attente à la fermeture)")),
)


def wait_sections(
    desks: list[DeskFigures], language: str, min_answers: int
) -> list[dict[str, Any]]:
    """Per desk computed with its visits: the waiting figures ready for a template, with the
    heatmap and the by-band chart; the same for the pages and the PDF reports."""
    _ = i18n.translations(language).gettext
    result = []
    for desk in desks:
        figures = [
            {
                "key": key,
                "name": _(name) % {"threshold": f"{desk.threshold_minutes:g}"}
                if key == "within_threshold_rate"
                else _(name),
                "figure": desk.figures[key],
                "status": desk.status(key),
            }
            for key, name in WAIT_ROWS
        ]
        result.append(
            {
                "desk": desk,
                "figures": figures,
                "heatmap": heatmap(desk, language, min_answers),
                "bands": bands(desk, language),
            }
        )
    return result


@router.get("/service/{service}")
@one_snapshot
def service_page(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: ServiceReader,
    service: str,
    kind: str | None = None,
    period: str | None = None,
    first: Annotated[str | None, Query(alias="from")] = None,
    last: Annotated[str | None, Query(alias="to")] = None,
    suspect: int = 0,
) -> Response:
    with storage.read() as connection:
        desks = town.desks(connection, services=[service])
    if not desks:
        return render(request, "error.html", {**nav_context(request, user), "error": "not_found"},
                      status_code=404)  # fmt: skip
    language = page_language(request)
    on = today(settings)
    choice = choose(kind, period, on, language, first=first, last=last)
    # Every figure of the period in one computation: the desk tables and the wait sections.
    rows = desk_figures(
        storage, settings, choice.period, services=[service], include_suspect=bool(suspect)
    )
    start, end = choice.period.bounds(ZoneInfo(settings.timezone))
    with storage.read() as connection:
        comments = quality.register(connection, services=[service], start=start, end=end)[:50]
        names = triage_storage.staff_names(connection, [service]).get(service, [])
    # A flagged comment is the quality manager's to read first: others get a placeholder.
    reviewer = may(user, Permission.REVIEW_FLAGGED)
    context = {
        **nav_context(request, user),
        "service": service,
        "service_name": desks[0].service.name,
        "choice": choice,
        "picker": picker(choice, on, language),
        "suspect": bool(suspect),
        "rows": [{"row": r, "distribution": distribution(r, language)} for r in rows],
        "trend": trend(storage, settings, service, choice.period, language),
        "waits": wait_sections(rows, language, settings.min_answers),
        "voices": [voice.voice(r, language) for r in rows],
        "comments": [
            {"entry": c, "shown": shown(c.text, c.review, names, reviewer)} for c in comments
        ],
        "placeholders": PLACEHOLDERS,
        "min_answers": settings.min_answers,
        "categories": labels.CATEGORIES,
    }
    return render(request, "service.html", context)
