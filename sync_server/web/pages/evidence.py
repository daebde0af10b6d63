"""The AFNOR evidence pack (`/evidence-pack?year=2026&service=iris`, or `from=2026-01&to=2026-06`),
the quality manager's: one ZIP built in a temporary file (`web.evidence_pack`), then streamed.
A period or a service that is not one gets a 400 page saying why, and nothing is built. Each
download is in the audit trail before the file leaves: who took which period and scope."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO, Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from sync_server import i18n
from sync_server.api.deps import SettingsDep, StorageDep
from sync_server.web.access import EvidencePackReader, nav_context
from sync_server.web.evidence_pack import (
    Pack,
    PackRefused,
    certified_services,
    choose_scope,
    file_stem,
    write_pack,
)
from sync_server.web.figures import today
from sync_server.web.pages.exports import disposition, record_download
from sync_server.web.pages.reports import build_pdf
from sync_server.web.templating import page_language, render

router = APIRouter(include_in_schema=False)
CHUNK = 256 * 1024


def chunks(file: IO[bytes]) -> Iterator[bytes]:
    """The file from its start, piece by piece; closed (and so deleted) at the end."""
    try:
        file.seek(0)
        while piece := file.read(CHUNK):
            yield piece
    finally:
        file.close()


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
    # Deleted when closed: after the last piece is sent, or here if building fails.
    out = tempfile.TemporaryFile()  # noqa: SIM115 - closed by `chunks` once streamed
    try:
        listed = await write_pack(pack, out)
        size = out.tell()
    except BaseException:
        out.close()
        raise
    details = {"period": scope.key, "service": scope.service, "files": len(listed), "bytes": size}
    await run_in_threadpool(
        record_download, request, storage, user, "export.downloaded", "evidence_pack", details
    )
    name = file_stem(scope, _("perimetre-certifie")) + ".zip"
    return StreamingResponse(
        chunks(out),
        media_type="application/zip",
        headers={"Content-Disposition": disposition(name), "Content-Length": str(size)},
    )
