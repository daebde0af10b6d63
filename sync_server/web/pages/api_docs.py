"""The API's documentation in production: `/openapi.json`, `/docs` (Swagger UI) and `/redoc`,
for a signed-in administrator only, since they map every route an attacker could try. In
development FastAPI serves them to anyone; `QV_API_DOCS=false` removes them everywhere.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from sync_server.access import Permission
from sync_server.storage import User
from sync_server.web.access import PageAccess

router = APIRouter(include_in_schema=False)

DocsReader = Annotated[User, Depends(PageAccess(Permission.READ_API_DOCS))]
TITLE = "Qualivilles sync server"


@router.get("/openapi.json")
def openapi_document(request: Request, _user: DocsReader) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs")
def swagger_ui(_user: DocsReader) -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{TITLE} – Swagger UI")


@router.get("/redoc")
def redoc(_user: DocsReader) -> HTMLResponse:
    return get_redoc_html(openapi_url="/openapi.json", title=f"{TITLE} – ReDoc")
