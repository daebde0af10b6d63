"""The desks' QR codes and posters, for the administrator and the quality manager to print.

Each desk's code opens its phone survey at `settings.public_base_url`; the poster adds the main
question and a short privacy notice (`sync_server.web.posters`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from qualivilles.survey import SurveyDefinition
from sync_server.api.deps import SettingsDep, StorageDep
from sync_server.settings import Settings
from sync_server.storage import Desk, surveys, town
from sync_server.web import posters
from sync_server.web.access import CodePrinter, nav_context
from sync_server.web.templating import render

router = APIRouter(include_in_schema=False)

FORMATS = {
    "qr.png": "image/png",
    "qr.svg": "image/svg+xml; charset=utf-8",
    "poster.pdf": "application/pdf",
}


def desk_url(settings: Settings, survey: SurveyDefinition, desk: Desk) -> str:
    return posters.survey_url(settings.public_base_url, desk, survey)


@router.get("/codes")
def codes_page(
    request: Request, storage: StorageDep, settings: SettingsDep, user: CodePrinter
) -> Response:
    with storage.read() as connection:
        survey = surveys.current(connection)
        found = town.desks(connection)
    desks = [
        {"desk": desk, "url": desk_url(settings, survey, desk),
         "path": f"/codes/{desk.site.slug}/{desk.service.slug}"}
        for desk in found
    ]  # fmt: skip
    return render(request, "desk_codes.html", {**nav_context(request, user), "desks": desks})


@router.get("/codes/{site}/{service}/{name}")
def desk_code(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    _user: CodePrinter,
    site: str,
    service: str,
    name: str,
) -> Response:
    with storage.read() as connection:
        desk = town.desk(connection, site, service)
        survey = surveys.current(connection)
        town_name = town.town_name(connection)
    if desk is None or name not in FORMATS:
        return Response(status_code=404)
    url = desk_url(settings, survey, desk)
    if name == "qr.png":
        body = posters.qr_png(url)
    elif name == "qr.svg":
        body = posters.qr_svg(url)
    else:
        body = posters.poster_pdf(url, desk, survey, town_name)
    stem = "affiche-avis" if name == "poster.pdf" else "qr-avis"
    filename = f"{stem}-{desk.site.slug}-{desk.service.slug}.{name.rsplit('.', 1)[1]}"
    return Response(
        body,
        media_type=FORMATS[name],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
