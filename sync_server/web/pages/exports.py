"""CSV and XLSX exports of raw answers, visits and indicator tables, filtered as on screen
(period, service, site, suspect switch) and by the user's role, headers in the page language.
A spreadsheet or BI tool may download them with its user's personal API token. Each download
is in the audit trail (which export, period, filters, rows; the token's number if one was used)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sync_server import i18n
from sync_server.access import visible_services
from sync_server.api.deps import SettingsDep, StorageDep
from sync_server.indicators.catalogue import QUESTION_PREFIX
from sync_server.indicators.figures import DeskFigures
from sync_server.storage import Storage, User, audit, exports
from sync_server.web import labels, tables
from sync_server.web.access import ExportReader
from sync_server.web.figures import desk_figures, today
from sync_server.web.labels import N_
from sync_server.web.period_choice import choose
from sync_server.web.templating import page_language

router = APIRouter(include_in_schema=False)

ANSWER_HEADERS = [N_("Id. de la réponse"), N_("Date (UTC)"), N_("Site"), N_("Service"), N_("Canal"),
                  N_("Langue"), N_("Statut"), N_("Suspect"), N_("Question principale")]  # fmt: skip
VISIT_HEADERS = [N_("Id. du passage"), N_("Site"), N_("Service"), N_("Ticket"),
                 N_("Arrivée (UTC)"), N_("Prise en charge (UTC)"), N_("Issue"),
                 N_("Attente (min)")]  # fmt: skip
INDICATOR_HEADERS = [N_("Période"), N_("Site"), N_("Service"), N_("Clé"), N_("Indicateur"),
                     N_("Valeur"), N_("Unité"), N_("N"), N_("N compte"),
                     N_("Période précédente"), N_("Objectif"), N_("Écart"),
                     N_("Unité de l'écart"), N_("Intervalle à 95 % : bas"),
                     N_("Intervalle à 95 % : haut"), N_("Masqué (raison)")]  # fmt: skip
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def indicator_lines(rows: list[DeskFigures], gettext: Any) -> list[list[Any]]:
    """One line per desk and figure, each question's rate included once: the figures of the
    JSON API, with their unit, what N counts, the previous period, the target and the gap."""
    lines = []
    for row in rows:
        for key, figure in row.every_figure().items():
            question = key.removeprefix(QUESTION_PREFIX)
            name = labels.QUESTION_NAMES.get(question, question) if question != key else (
                labels.INDICATOR_NAMES.get(key, key))  # fmt: skip
            lines.append([
                row.period, row.site, row.service, key, gettext(name), _rounded(figure.value),
                gettext(labels.UNIT_NAMES[figure.unit]), figure.n,
                gettext(labels.COUNTED_NAMES[figure.n_counts]), _rounded(figure.previous),
                figure.target, _rounded(figure.gap), gettext(labels.UNIT_NAMES[figure.gap_unit]),
                _rounded(figure.low), _rounded(figure.high), figure.reason or "",
            ])  # fmt: skip
    return lines


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def file_response(
    fmt: str, name: str, headers: Sequence[str], lines: list[list[Any]], language: str
) -> Response:
    if fmt == "xlsx":
        body = tables.to_xlsx(name, headers, lines)
    else:
        french = language == "fr"
        body = tables.to_csv(
            headers, lines, delimiter=";" if french else ",", decimal="," if french else "."
        )
    return Response(
        body,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


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
    if what not in ("answers", "visits", "indicators") or fmt not in MEDIA:
        return Response(status_code=404)
    language = page_language(request)
    _ = i18n.translations(language).gettext
    choice = choose(kind, period, today(settings), language)
    services = visible_services(user, [service] if service else None)
    sites = [site] if site else None
    start, end = choice.period.bounds(ZoneInfo(settings.timezone))
    name = f"{what}-{choice.period.key}"
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
        questions = sorted({q for r in rows for q in r["items"]})
        headers = [_(h) for h in ANSWER_HEADERS] + questions
        lines = [
            [r["id"], r["captured_at"], r["site"], r["service"], r["channel"], r["language"],
             r["status"], r["suspect"], r["main_choice"],
             *[r["items"].get(q, "") for q in questions]]
            for r in rows
        ]  # fmt: skip
    elif what == "visits":
        with storage.read() as connection:
            rows = list(exports.visit_rows(connection, start, end, services=services, sites=sites))
        headers = [_(h) for h in VISIT_HEADERS]
        lines = [
            [r["id"], r["site"], r["service"], r["ticket"], r["arrived_at"], r["taken_at"],
             r["outcome"], None if r["wait_seconds"] is None else round(r["wait_seconds"] / 60, 2)]
            for r in rows
        ]  # fmt: skip
    else:
        figures = desk_figures(
            storage, settings, choice.period, services=services, sites=sites,
            include_suspect=bool(suspect),
        )  # fmt: skip
        headers = [_(h) for h in INDICATOR_HEADERS]
        lines = indicator_lines(figures, _)
    response = file_response(fmt, name, headers, lines, language)
    details = {
        "period": choice.period.key,
        "service": audit.asked(service),
        "site": audit.asked(site),
        "suspect": bool(suspect),
        "rows": len(lines),
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
