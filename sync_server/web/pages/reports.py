"""PDF reports from HTML templates (WeasyPrint): the monthly pack for the Qualivilles meeting,
the annual review, and a results poster per desk (A4, large type) for its waiting room.

Each request computes its figures (the pages' own) and renders its HTML in a worker thread, then
awaits the HTML→PDF layout in a worker process (`pdf_pool`): other pages are served meanwhile.
Each download is in the audit trail."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from sync_server import i18n
from sync_server.api.deps import SettingsDep, StorageDep
from sync_server.api.problems import ApiError
from sync_server.indicators.periods import Period
from sync_server.settings import Settings
from sync_server.storage import Storage, User, town
from sync_server.web import labels
from sync_server.web.access import IndicatorReader, ServiceReader, nav_context
from sync_server.web.annual_review import annual_context
from sync_server.web.figures import desk_figures, today
from sync_server.web.monthly_pack import generated_at, monthly_context
from sync_server.web.pages.exports import record_download
from sync_server.web.pages.review import indicator_name, year_period
from sync_server.web.pdf_pool import PdfPool, PdfUnavailable
from sync_server.web.period_choice import choose, period_in_words, period_label
from sync_server.web.templating import environment, page_language, render

router = APIRouter(include_in_schema=False)


def pdf_response(body: bytes, name: str) -> Response:
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
    )


async def build_pdf(request: Request, html: str, language: str) -> bytes:
    """The PDF of `html`, laid out in the app's worker process; a 503 problem if it died."""
    pool: PdfPool = request.app.state.pdf_pool
    try:
        return await pool.build(html)
    except PdfUnavailable:
        _ = i18n.translations(language).gettext
        raise ApiError(
            503,
            "pdf_unavailable",
            _("Le PDF n'a pas pu être produit"),
            _("Le processus qui met le PDF en page s'est arrêté. Réessayez dans un instant."),
            headers={"Retry-After": "5"},
        ) from None


# Tags between which white space shows nothing (block and table boxes), so `_render` drops it:
# WeasyPrint would parse, style and lay out each such run as a text box of its own.
_BLOCK_TAGS = (
    "html|head|meta|title|style|body|section|div|p|h1|h2|h3|table|caption|thead|tbody|tr|th|td"
)
_BETWEEN_BLOCKS = re.compile(rf"(</?(?:{_BLOCK_TAGS})\b[^<>]*>)\s+(?=</?(?:{_BLOCK_TAGS})\b)")


def _render(settings: Settings, language: str, template: str, context: dict[str, Any]) -> str:
    # The templates' <style> is read by WeasyPrint, on the server; their HTML never reaches a
    # browser, whose Content-Security-Policy would refuse inline CSS.
    zone = ZoneInfo(settings.timezone)
    return without_block_spaces(
        environment(language).get_template(template).render(town_zone=zone, **context)
    )


def without_block_spaces(html: str) -> str:
    """`html` without the white space between two block or table tags (it shows nothing);
    the spaces between words and inline tags stay."""
    return _BETWEEN_BLOCKS.sub(r"\1", html)


def _frame(
    storage: Storage, settings: Settings, language: str, title: str, period: Period
) -> dict[str, Any]:
    """What every report page carries: its title, the period, the town, the generation date."""
    _ = i18n.translations(language).gettext
    with storage.read() as connection:
        town_name = town.town_name(connection) or ""
    generated = generated_at(settings, datetime.now(UTC))
    return {
        "title": title,
        "running": title,
        "period_label": period_label(period, language),
        "town": town_name,
        "generated": generated,
        "generated_line": _("Édité le %(when)s") % {"when": generated},
        "min_answers": settings.min_answers,
        "labels": labels,
        "indicator_name": indicator_name,
    }


def monthly_html(
    storage: Storage, settings: Settings, user: User, period: Period, language: str
) -> str:
    _ = i18n.translations(language).gettext
    title = _("Dossier mensuel Qualivilles · %(period)s") % {
        "period": period_label(period, language)
    }
    context = _frame(storage, settings, language, title, period)
    context |= monthly_context(storage, settings, user, period, language)
    return _render(settings, language, "report_monthly.html", context)


def annual_html(
    storage: Storage, settings: Settings, user: User, period: Period, language: str
) -> str:
    _ = i18n.translations(language).gettext
    title = _("Bilan annuel %(period)s") % {"period": period_label(period, language)}
    context = _frame(storage, settings, language, title, period)
    context |= annual_context(storage, settings, user, period, language)
    return _render(settings, language, "report_annual.html", context)


@router.get("/reports/monthly.pdf")
async def monthly_pack(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: IndicatorReader,
    period: str | None = None,
) -> Response:
    language = page_language(request)
    choice = choose("month", period, today(settings), language)
    html = await run_in_threadpool(monthly_html, storage, settings, user, choice.period, language)
    body = await build_pdf(request, html, language)
    details = {"period": choice.period.key}
    record_download(request, storage, user, "report.downloaded", "monthly", details)
    return pdf_response(body, f"qualivilles-{choice.period.key}")


@router.get("/reports/annual.pdf")
async def annual_review(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: IndicatorReader,
    year: int | None = None,
) -> Response:
    language = page_language(request)
    period = year_period(year, settings)
    html = await run_in_threadpool(annual_html, storage, settings, user, period, language)
    body = await build_pdf(request, html, language)
    details = {"period": period.key}
    record_download(request, storage, user, "report.downloaded", "annual", details)
    return pdf_response(body, f"bilan-{period.start.year}")


class PosterRefused(Exception):
    """No poster to print; the code says why: "no_poster" (no answer in the period: nothing to
    announce, never "0 avis"), "choose_site" (several sites, none named), "not_found"."""


def poster_html(
    storage: Storage, settings: Settings, service: str, site: str | None, period: Period,
    language: str,
) -> str:  # fmt: skip
    """The poster of one desk (one site) of `service` for `period`; PosterRefused otherwise."""
    rows = desk_figures(storage, settings, period, services=[service])
    if site is not None:
        rows = [row for row in rows if row.site == site]
    if not rows:
        raise PosterRefused("not_found")
    if len(rows) > 1:
        raise PosterRefused("choose_site")
    [row] = rows
    if not row.figures["answers"].value:
        raise PosterRefused("no_poster")
    with storage.read() as connection:
        town_name = town.town_name(connection) or ""
    context = {"row": row, "town": town_name, "period_words": period_in_words(period, language)}
    return _render(settings, language, "poster.html", context)


@router.get("/reports/poster/{service}.pdf")
async def poster(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: ServiceReader,
    service: str,
    quarter: str | None = None,
    site: str | None = None,
) -> Response:
    language = page_language(request)
    choice = choose("quarter", quarter, today(settings), language)
    try:
        html = await run_in_threadpool(
            poster_html, storage, settings, service, site, choice.period, language
        )
    except PosterRefused as refused:
        context = {**nav_context(request, user), "error": str(refused)}
        return render(request, "error.html", context, status_code=404)
    body = await build_pdf(request, html, language)
    details = {"period": choice.period.key, "service": service, "site": site or ""}
    record_download(request, storage, user, "report.downloaded", "poster", details)
    name = f"affiche-{service}" + (f"-{site}" if site else "")
    return pdf_response(body, name)
