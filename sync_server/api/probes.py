"""Liveness and readiness for a load balancer or an orchestrator: public, and nothing in the
reply but a word (no version, no count, no database name)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from sync_server.api.deps import StorageDep
from sync_server.storage import migrations

router = APIRouter(include_in_schema=False)


@router.get("/health/live")
def live() -> JSONResponse:
    """The process answers."""
    return JSONResponse({"status": "live"})


@router.get("/health/ready")
async def ready(storage: StorageDep) -> JSONResponse:
    """The database answers and its schema is this server's: 200; otherwise 503."""
    if await run_in_threadpool(migrations.is_current, storage.engine):
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "not ready"}, status_code=503)
