"""Server-rendered pages: dashboard sign-in and overview, the phone survey, their static files.

`routers` is what `sync_server.app` includes; each module owns one resource.
"""

from fastapi import APIRouter

from sync_server.web import (
    admin_surveys,
    admin_users,
    dashboard,
    desk_codes,
    exports,
    fleet,
    login,
    phone_survey,
    register,
    reports,
    review,
    service_page,
    static_files,
    targets,
)

routers: list[APIRouter] = [
    login.router,
    dashboard.router,
    service_page.router,
    register.router,
    fleet.router,
    targets.router,
    review.router,
    exports.router,
    reports.router,
    phone_survey.router,
    desk_codes.router,
    admin_users.router,
    admin_surveys.router,
    static_files.router,
]

__all__ = ["routers"]
