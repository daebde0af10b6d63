"""CSV and XLSX exports of raw answers, visits and indicator tables, filtered as on screen
(period, service, site, suspect switch) and by the user's role, in the page language: names,
labels and local dates, one sheet per topic and a data dictionary in a workbook (the first sheet
alone in CSV), the file named with its period and filters.
A spreadsheet or BI tool may download them with its user's personal API token. Each download
is in the audit trail (which export, period, filters, rows; the token's number if one was used)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from qualivilles.survey import localized
from sync_server import i18n
from sync_server.access import visible_services
from sync_server.api.deps import SettingsDep, StorageDep
from sync_server.comments import verbatims
from sync_server.indicators.figures import DeskFigures
from sync_server.indicators.periods import Period
from sync_server.settings import Settings
from sync_server.storage import Connection, Storage, User, audit, exports, surveys
from sync_server.web import export_words, figure_sheets, record_sheets, tables
from sync_server.web.access import ExportReader
from sync_server.web.figures import desk_figures, today
from sync_server.web.labels import N_
from sync_server.web.period_choice import choose
from sync_server.web.templating import page_language

router = APIRouter(include_in_schema=False)

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# The file's first word, in the reader's language.
FILE_NAMES = {"answers": N_("réponses"), "visits": N_("passages"),
              "indicators": N_("indicateurs")}  # fmt: skip


def file_name(first: str, *parts: str | None) -> str:
    """The file's name without extension: its first word, then the period and the filters."""
    return "-".join([first, *(part for part in parts if part)])


def disposition(name: str) -> str:
    """An attachment named in ASCII (accents dropped, anything else a dash), with the accented
    name as RFC 5987 `filename*` when it differs."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    plain = re.sub(r"[^A-Za-z0-9._-]+", "-", plain)
    header = f'attachment; filename="{plain}"'
    if plain != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


def file_response(fmt: str, name: str, sheets: list[tables.Sheet], language: str) -> Response:
    """The sheets as one workbook (the data dictionary last), or the first sheet as CSV."""
    style = tables.writing(language)
    if fmt == "xlsx":
        body = tables.to_workbook(sheets, style)
    else:
        body = tables.sheet_csv(sheets[0], style)
    return Response(
        body, media_type=MEDIA[fmt], headers={"Content-Disposition": disposition(f"{name}.{fmt}")}
    )


def indicator_sheets(
    storage: Storage,
    settings: Settings,
    figures: list[DeskFigures],
    period: Period,
    period_label: str,
    language: str,
    reader_role: str,
) -> list[tables.Sheet]:
    _ = i18n.translations(language).gettext
    zone = ZoneInfo(settings.timezone)
    start, end = period.bounds(zone)
    with storage.read() as connection:
        survey = surveys.current(connection)
        quoted = verbatims.selected_verbatims(
            connection,
            start,
            end,
            services=sorted({row.service for row in figures}),
            sites=sorted({row.site for row in figures}),
            reader_role=reader_role,
        )
    texts = {q.id: localized(q.text, language) for q in survey.questions}
    minimum = settings.min_answers
    sheets = [
        figure_sheets.indicator_sheet(figures, period_label, _, minimum, texts),
        figure_sheets.wait_sheet(figures, period_label, _, minimum),
        figure_sheets.reasons_sheet(figures, period_label, _, language),
        figure_sheets.said_waits_sheet(figures, period_label, _, language, minimum),
        figure_sheets.verbatims_sheet(figures, quoted, period_label, zone, _),
    ]
    return [*sheets, export_words.dictionary(sheets, _)]


def answer_sheets(
    connection: Connection, rows: list[dict[str, Any]], zone: ZoneInfo, language: str
) -> list[tables.Sheet]:
    _ = i18n.translations(language).gettext
    answered = {(row["survey_id"], row["survey_version"]) for row in rows}
    found = [surveys.remembered(connection, *key) for key in sorted(answered)]
    questions = record_sheets.questions_of(
        [surveys.current(connection), *(survey for survey in found if survey is not None)]
    )
    names = exports.place_names(connection)
    sheet = record_sheets.answers_sheet(rows, questions, names, zone, language, _)
    return [sheet, export_words.dictionary([sheet], _)]


@router.get("/export/{what}.{fmt}")
def export(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: ExportReader,
    what: str,
    fmt: str,
    kind: str | None = None,
    period: str | None = None,
    service: str | None = None,
    site: str | None = None,
    suspect: int = 0,
) -> Response:
    if what not in FILE_NAMES or fmt not in MEDIA:
        return Response(status_code=404)
    language = page_language(request)
    _ = i18n.translations(language).gettext
    choice = choose(kind, period, today(settings), language)
    services = visible_services(user, [service] if service else None)
    sites = [site] if site else None
    zone = ZoneInfo(settings.timezone)
    start, end = choice.period.bounds(zone)
    if what == "answers":
        with storage.read() as connection:
            rows = list(
                exports.answer_rows(
                    connection,
                    start,
                    end,
                    services=services,
                    sites=sites,
                    include_suspect=bool(suspect),
                )
            )
            sheets = answer_sheets(connection, rows, zone, language)
    elif what == "visits":
        with storage.read() as connection:
            rows = list(exports.visit_rows(connection, start, end, services=services, sites=sites))
            names = exports.place_names(connection)
        sheet = record_sheets.visits_sheet(rows, names, zone, _)
        sheets = [sheet, export_words.dictionary([sheet], _)]
    else:
        figures = desk_figures(
            storage, settings, choice.period, services=services, sites=sites,
            include_suspect=bool(suspect),
        )  # fmt: skip
        sheets = indicator_sheets(
            storage, settings, figures, choice.period, choice.label, language, user.role
        )
    name = file_name(_(FILE_NAMES[what]), choice.period.key, service, site)
    response = file_response(fmt, name, sheets, language)
    details = {
        "period": choice.period.key,
        "service": audit.asked(service),
        "site": audit.asked(site),
        "suspect": bool(suspect),
        "rows": len(sheets[0].rows),
    }
    record_download(request, storage, user, "export.downloaded", f"{what}.{fmt}", details)
    return response


def record_download(
    request: Request,
    storage: Storage,
    user: User,
    action: str,
    name: str,
    details: dict[str, object],
) -> None:
    """Put a download in the audit trail before its file is sent, with the personal API token
    it came with, if any (`sync_server.api.deps.token_user`)."""
    token_id = getattr(request.state, "api_token_id", None)
    if token_id is not None:
        details = {**details, "token_id": token_id}
    with storage.write() as connection:
        audit.record(connection, audit.by_user(user), action, name, details)
