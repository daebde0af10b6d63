"""A service's page: its desks' figures for a period, the 12-month trend, the distribution per
question, waits, and the period's comments."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sync_server import i18n
from sync_server.api.deps import SettingsDep, StorageDep
from sync_server.indicators import monthly, periodic
from sync_server.indicators.periods import last_months
from sync_server.settings import Settings
from sync_server.storage import Storage
from sync_server.web import charts, labels
from sync_server.web.access import INDICATOR_ROLES, Denied, forbidden, nav_context, require
from sync_server.web.figures import desk_figures, today
from sync_server.web.period_choice import choose, period_label
from sync_server.web.templating import page_language, render

router = APIRouter(include_in_schema=False)
TREND_MONTHS = 12


def trend(
    storage: Storage, settings: Settings, service: str, month: Any, language: str
) -> list[dict[str, Any]]:
    """Per desk of `service`: the last 12 months' satisfaction, as rows and an SVG chart."""
    months = last_months(month, TREND_MONTHS)
    rows = monthly.compute(
        storage,
        months[0].start,
        months[-1].start,
        min_answers=settings.min_answers,
        target=settings.target_satisfaction_rate,
        timezone=settings.timezone,
        services=[service],
    )
    targets = periodic.Targets(storage.targets_on(month.start), settings.target_satisfaction_rate)
    target = targets.get("satisfaction_rate", service)
    by_site: dict[str, list[Any]] = {}
    for row in rows:
        by_site.setdefault(row.site, []).append(row)
    _ = i18n.translations(language).gettext
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
        shown = [
            f"{p['label']} : {'—' if v is None else round(v, 1)}"
            for p, v in zip(points, values, strict=True)
        ]
        svg = charts.trend_chart(
            [p["short"] for p in points],
            values,
            target,
            title=title,
            description="; ".join(shown),
            target_label=_("Objectif %(target)s %%") % {"target": f"{target:g}"},
        )
        result.append({"site": site, "site_name": site_rows[0].site_name, "points": points,
                       "svg": svg})  # fmt: skip
    return result


def distribution(row: periodic.DeskPeriod, language: str) -> dict[str, Any]:
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


@router.get("/service/{service}")
def service_page(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    service: str,
    kind: str | None = None,
    period: str | None = None,
    suspect: int = 0,
) -> Response:
    try:
        user = require(request, storage, INDICATOR_ROLES)
    except Denied as denied:
        return denied.response
    if not user.may_see(service):
        return forbidden(request, user)
    desks = [d for d in storage.desks() if d.service.slug == service]
    if not desks:
        return render(request, "error.html", {**nav_context(request, user), "error": "not_found"},
                      status_code=404)  # fmt: skip
    language = page_language(request)
    choice = choose(kind, period, today(settings), language)
    rows = desk_figures(
        storage, settings, choice.period, services=[service], include_suspect=bool(suspect)
    )
    start, end = choice.period.bounds(monthly.ZoneInfo(settings.timezone))
    comments = storage.comment_register(services=[service], start=start, end=end)[:50]
    context = {
        **nav_context(request, user),
        "service": service,
        "service_name": desks[0].service.name,
        "choice": choice,
        "kinds": ("week", "month", "quarter", "year"),
        "suspect": bool(suspect),
        "rows": [{"row": r, "distribution": distribution(r, language)} for r in rows],
        "trend": trend(storage, settings, service, choice.period, language),
        "comments": [{"entry": c, "text": labels.mask_personal(c.text)} for c in comments],
        "min_answers": settings.min_answers,
        "categories": labels.CATEGORIES,
    }
    return render(request, "service.html", context)
