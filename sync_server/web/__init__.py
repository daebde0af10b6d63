"""Server-rendered pages: dashboard sign-in and overview, the phone survey, their static files.

`routers` is what `sync_server.app` includes; each module owns one resource.
"""

from fastapi import APIRouter

from sync_server.web import dashboard, login, phone_survey, static_files

routers: list[APIRouter] = [
    login.router,
    dashboard.router,
    phone_survey.router,
    static_files.router,
]

__all__ = ["routers"]
