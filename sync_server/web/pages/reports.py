"""PDF reports from HTML templates (WeasyPrint): the monthly pack for the Qualivilles meeting,
the annual review, and a results poster per service (A4, large type) for the desk.

The monthly pack and the annual review are one template (`report.html`) fed with the same
figures as the pages; charts are the pages' SVG drawings. Each download is in the audit trail."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sync_server.access import visible_services
from sync_server.api.deps import SettingsDep, StorageDep
from sync_server.indicators.periods import Period
from sync_server.settings import Settings
from sync_server.storage import Storage, User, town
from sync_server.web import labels
from sync_server.web.access import IndicatorReader, ServiceReader
from sync_server.web.figures import desk_figures, today
from sync_server.web.pages.exports import record_download
from sync_server.web.pages.review import indicator_name, review_data, year_period
from sync_server.web.pages.service_page import distribution, wait_sections
from sync_server.web.period_choice import choose, period_label
from sync_server.web.templating import environment, page_language

router = APIRouter(include_in_schema=False)


def pdf(html: str, name: str) -> Response:
    from weasyprint import HTML  # imported on use: it loads Pango, which pages do not need

    # The templates' <style> is read here, on the server; their HTML never reaches a browser,
    # whose Content-Security-Policy would refuse inline CSS.
    body = HTML(string=html, base_url=None).write_pdf()
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
    )


def _render(language: str, template: str, context: dict[str, Any]) -> str:
    return environment(language).get_template(template).render(**context)


def report_context(
    storage: Storage, settings: Settings, user: User, period: Period, language: str, mode: str
) -> dict[str, Any]:
    """What `report.html` is given: the monthly pack (`mode` "monthly") or the annual review
    ("annual") of the user's services, from the same computed figures as the pages."""
    if mode == "annual":
        data = review_data(storage, settings, user, period)
        rows, misses = data["rows"], data["misses"]
    else:
        rows, misses = desk_figures(storage, settings, period, services=visible_services(user)), []
    with storage.read() as connection:
        town_name = town.town_name(connection) or ""
    sections = wait_sections(rows, language, settings.min_answers)
    return {
        "mode": mode,
        "title_period": period_label(period, language),
        "rows": rows,
        "distributions": {(r.site, r.service): distribution(r, language) for r in rows},
        "waits": {(item["desk"].site, item["desk"].service): item for item in sections},
        "misses": misses,
        "indicator_name": indicator_name,
        "labels": labels,
        "town": town_name,
        "min_answers": settings.min_answers,
    }


def poster_context(
    storage: Storage, settings: Settings, service: str, period: Period, language: str
) -> dict[str, Any]:
    """What `poster.html` is given: the service's desks for the quarter."""
    rows = desk_figures(storage, settings, period, services=[service])
    name = rows[0].service_name if rows else ""
    return {"rows": rows, "period_label": period_label(period, language), "service_name": name}


@router.get("/reports/monthly.pdf")
def monthly_pack(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: IndicatorReader,
    period: str | None = None,
) -> Response:
    language = page_language(request)
    choice = choose("month", period, today(settings), language)
    context = report_context(storage, settings, user, choice.period, language, "monthly")
    response = pdf(_render(language, "report.html", context), f"qualivilles-{choice.period.key}")
    details = {"period": choice.period.key}
    record_download(request, storage, user, "report.downloaded", "monthly", details)
    return response


@router.get("/reports/annual.pdf")
def annual_review(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: IndicatorReader,
    year: int | None = None,
) -> Response:
    language = page_language(request)
    period = year_period(year, settings)
    context = report_context(storage, settings, user, period, language, "annual")
    response = pdf(_render(language, "report.html", context), f"bilan-{period.start.year}")
    details = {"period": period.key}
    record_download(request, storage, user, "report.downloaded", "annual", details)
    return response


@router.get("/reports/poster/{service}.pdf")
def poster(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: ServiceReader,
    service: str,
    quarter: str | None = None,
) -> Response:
    language = page_language(request)
    choice = choose("quarter", quarter, today(settings), language)
    context = poster_context(storage, settings, service, choice.period, language)
    if not context["rows"]:
        return Response(status_code=404)
    response = pdf(_render(language, "poster.html", context), f"affiche-{service}")
    details = {"period": choice.period.key, "service": service}
    record_download(request, storage, user, "report.downloaded", "poster", details)
    return response
