"""The pages' few static files, served by a plain route so `sync_server.web.routers` is all the
app needs to include (a Mount inside an APIRouter is not carried over by `include_router`)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
# Plain file names only: no path separators, so nothing outside STATIC_DIR can be named.
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\.(css|svg|png|ico)$")

router = APIRouter(include_in_schema=False)


@router.get("/static/{name}")
def static_file(name: str) -> FileResponse:
    path = STATIC_DIR / name
    if not NAME.match(name) or not path.is_file():
        raise HTTPException(status_code=404)
    return FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})
