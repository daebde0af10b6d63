"""The AFNOR evidence pack (`/evidence-pack?year=2026&service=iris`, or `from=2026-01&to=2026-06`),
the quality manager's: one ZIP sent piece by piece as its files are built (`web.evidence_pack`).
A period or a service that is not one gets a 400 page saying why, and nothing is built. Each
download is in the audit trail before the ZIP's last piece, without which it does not open: who
took which period and scope, how many files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from sync_server import i18n
from sync_server.api.deps import SettingsDep, StorageDep
from sync_server.web.access import EvidencePackReader, nav_context
from sync_server.web.evidence_pack import (
    Listed,
    Pack,
    PackRefused,
    certified_services,
    choose_scope,
    file_stem,
    stream_pack,
)
from sync_server.web.figures import today
from sync_server.web.pages.exports import disposition, record_download
from sync_server.web.pages.reports import build_pdf
from sync_server.web.templating import page_language, render

router = APIRouter(include_in_schema=False)


@router.get("/evidence-pack")
async def evidence_pack(
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    user: EvidencePackReader,
    year: str | None = None,
    first: Annotated[str | None, Query(alias="from")] = None,
    last: Annotated[str | None, Query(alias="to")] = None,
    service: str | None = None,
) -> Response:
    language = page_language(request)
    _ = i18n.translations(language).gettext
    certified = await run_in_threadpool(certified_services, storage)
    try:
        scope = choose_scope(year, first, last, service, certified, today(settings))
    except PackRefused as refused:
        context = {**nav_context(request, user), "error": "refused", "message": _(refused.message)}
        return render(request, "error.html", context, status_code=400)

    async def pdf(html: str) -> bytes:
        return await build_pdf(request, html, language)

    pack = Pack(storage, settings, user, language, scope, pdf)

    async def record(listed: list[Listed]) -> None:
        details = {"period": scope.key, "service": scope.service, "files": len(listed),
                   "bytes": sum(item.size for item in listed)}  # fmt: skip
        await run_in_threadpool(
            record_download, request, storage, user, "export.downloaded", "evidence_pack", details
        )

    name = file_stem(scope, _("perimetre-certifie")) + ".zip"
    return StreamingResponse(
        stream_pack(pack, before_last=record),
        media_type="application/zip",
        headers={"Content-Disposition": disposition(name)},
    )
