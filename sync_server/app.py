"""`create_app(settings)`: assembles the server; routes live in `api/` and `web/`.
`app_from_environment` is the factory each server process calls (`sync-server serve`, or
`uvicorn --factory sync_server.app:app_from_environment`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from sync_server import api, projector, retention, web
from sync_server.alerts import delivery as alert_delivery
from sync_server.api import openapi, probes, problems
from sync_server.api.body_limit import BodyLimitMiddleware
from sync_server.client_address import proxy_hosts
from sync_server.session_cookie import SessionCookieMiddleware, cookie_name
from sync_server.settings import Settings
from sync_server.storage import Storage, migrations
from sync_server.web import access as page_access
from sync_server.web import warm_up
from sync_server.web.pages import api_docs
from sync_server.web.pages.internal_audits import FINDING_UPLOAD
from sync_server.web.pdf_pool import PdfPool
from sync_server.web.security_headers import SecurityHeadersMiddleware

# The app reads proxy headers itself (QV_TRUSTED_PROXIES), whoever serves it; uvicorn must not read
# them a second time, least of all with its default of believing any process on 127.0.0.1.
UVICORN_OPTIONS: dict[str, Any] = {"proxy_headers": False}


def create_app(settings: Settings, storage: Storage | None = None) -> FastAPI:
    """The ASGI app on `storage` (default: `settings.database_url`; migrate it beforehand).
    InsecureSettingsError in production without a strong secret key."""
    settings.require_secure()
    owned = storage is None
    store = (
        storage
        if storage is not None
        else Storage.from_url(settings.database_url, settings.timezone, settings.db_pool_size)
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Fonts, templates and catalogues loaded while nobody waits (see `web.warm_up`).
        app.state.warmed = warm_up.start()
        if settings.pdf_warm_up:
            # Spawns the worker (milliseconds) and queues its warm-up; nothing waits for it.
            app.state.pdf_warmed = pdf_pool.start()
        stop = asyncio.Event()
        alerts = (
            asyncio.create_task(alert_delivery.alert_loop(store, settings, stop))
            if settings.alerts_enabled
            else None
        )
        purges = (
            asyncio.create_task(retention.purge_loop(store, settings, stop))
            if settings.purge_daily
            else None
        )
        projecting = (
            asyncio.create_task(projector.projection_loop(store, stop, settings.projection_every))
            if settings.projection_every > 0
            else None
        )
        yield
        stop.set()
        pdf_pool.shutdown()
        for task in (alerts, purges, projecting):
            if task is not None:
                await task
        if owned:
            store.close()

    # In development FastAPI serves the API's documentation to anyone; in production
    # `api_docs` serves it to administrators only.
    open_docs = settings.api_docs and settings.is_development
    app = FastAPI(
        title="Qualivilles sync server",
        version="1",
        summary="Device enrolment, idempotent record upload, device configuration, indicators",
        lifespan=lifespan,
        openapi_url="/openapi.json" if open_docs else None,
        docs_url="/docs" if open_docs else None,
        redoc_url="/redoc" if open_docs else None,
    )
    app.state.settings = settings
    app.state.storage = store
    # PDF layout in two worker processes (a long report laid out in two parts at once), started
    # at start-up or on the first PDF asked (see `web.pdf_pool` and the `pdf_warm_up` setting).
    pdf_pool = app.state.pdf_pool = PdfPool(workers=2)
    problems.install(app)
    page_access.install(app)
    openapi.install(app, api.routers, session_cookie=cookie_name(settings))
    guarded_docs = [api_docs.router] if settings.api_docs and not settings.is_development else []
    for router in [*api.routers, probes.router, *web.routers, *guarded_docs]:
        app.include_router(router)
    # The signed cookie holds the CSRF token and the id of a server-side session
    # (`storage.sessions`): signing out deletes the session, whatever the cookie still says.
    app.add_middleware(
        SessionCookieMiddleware,
        secret_key=settings.secret_key,
        session_cookie=cookie_name(settings),
        max_age=settings.session_lifetime_hours * 3600,
        same_site="lax",
        https_only=not settings.is_development,
    )
    # Runs before the session: an oversized body is refused before anything reads it.
    app.add_middleware(
        BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes, uploads=[FINDING_UPLOAD]
    )
    # Runs before the body limit, so its refusals carry the headers too.
    app.add_middleware(SecurityHeadersMiddleware)
    if settings.trusted_proxies:
        # Added last, so it runs first: everything else sees the client and scheme the proxy
        # names (HSTS over the proxy's TLS included). Only these peers may name them
        # (X-Forwarded-For, the right-most address that is not theirs; X-Forwarded-Proto); from
        # anyone else both are ignored.
        app.add_middleware(
            ProxyHeadersMiddleware, trusted_hosts=proxy_hosts(settings.trusted_proxies)
        )
    return app


def app_from_environment() -> FastAPI:
    """The app on the settings of the `QV_*` environment variables, as each server process
    starts it. SchemaOutOfDate (naming `sync-server migrate`) on a database that needs
    migrating: a server never migrates by itself, so N processes never race to."""
    settings = Settings()
    app = create_app(settings)
    storage: Storage = app.state.storage
    try:
        migrations.require_current(storage.engine)
    except Exception:
        storage.close()
        raise
    return app
