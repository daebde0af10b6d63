"""Server-rendered pages: the staff pages (`pages/`), the public phone survey
(`sync_server.phone`), their static files; the other modules here are helpers shared by pages.

`routers` is what `sync_server.app` includes; each module owns one resource.
"""

from fastapi import APIRouter

from sync_server.phone import pages as phone_pages
from sync_server.web import static_files
from sync_server.web.pages import (
    actions,
    admin_surveys,
    admin_users,
    api_tokens,
    audit,
    dashboard,
    desk_codes,
    evidence,
    exports,
    fleet,
    internal_audits,
    login,
    meetings,
    mystery,
    own_password,
    referential,
    register,
    reports,
    review,
    service_page,
    staff_names,
    targets,
)

routers: list[APIRouter] = [
    login.router,
    dashboard.router,
    service_page.router,
    register.router,
    staff_names.router,
    fleet.router,
    targets.router,
    review.router,
    actions.router,
    referential.router,
    internal_audits.router,
    mystery.router,
    meetings.router,
    exports.router,
    reports.router,
    evidence.router,
    phone_pages.router,
    desk_codes.router,
    admin_users.router,
    admin_surveys.router,
    api_tokens.router,
    own_password.router,
    audit.router,
    static_files.router,
]

__all__ = ["routers"]
