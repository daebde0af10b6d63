"""Who may see what on the dashboard: one place for the role rules of every page and export.

- quality manager: every service, every page;
- service manager: the indicators, comments and exports of their own services only;
- admin: the device fleet (and users, surveys), not the visitors' answers.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from sync_server.api.deps import session_user
from sync_server.storage import Storage, User
from sync_server.web.csrf import CsrfError, check_csrf, csrf_token
from sync_server.web.templating import render

INDICATOR_ROLES = ("quality_manager", "service_manager")
FLEET_ROLES = ("quality_manager", "admin")
QUALITY_MANAGER = ("quality_manager",)


class Denied(Exception):
    """The request may not go on; `response` says why (login page or a 403 page)."""

    def __init__(self, response: Response):
        self.response = response


def require(request: Request, storage: Storage, roles: tuple[str, ...]) -> User:
    """The logged-in user if their role is in `roles`; else Denied (redirect or 403)."""
    user = session_user(request, storage)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise Denied(RedirectResponse(f"/login?next={target}", status_code=303))
    if user.role not in roles:
        raise Denied(forbidden(request, user))
    return user


async def require_form(
    request: Request, storage: Storage, roles: tuple[str, ...]
) -> tuple[User, FormData]:
    """A posted form from a user whose role is in `roles`, its CSRF token checked; else
    Denied (login redirect, or a 403 page for a wrong role or a missing/forged token)."""
    user = require(request, storage, roles)
    form = await request.form()
    try:
        check_csrf(request, form.get("csrf_token"))
    except CsrfError:
        page = render(
            request,
            "error.html",
            {**nav_context(request, user), "error": "csrf"},
            status_code=403,
        )
        raise Denied(page) from None
    return user, form


def forbidden(request: Request, user: User) -> Response:
    """The 403 page, with the user's own menu so they can go on from there."""
    context = {**nav_context(request, user), "error": "forbidden"}
    return render(request, "error.html", context, status_code=403)


def visible_services(user: User, wanted: list[str] | None = None) -> list[str] | None:
    """The services `user` may read, narrowed to `wanted`; None means all of them."""
    if user.role == "service_manager":
        return [s for s in (wanted or user.services) if s in user.services]
    return wanted


def nav_context(request: Request, user: User) -> dict[str, object]:
    """What the staff layout needs: the user, their role (for the menu) and the CSRF token."""
    return {
        "user": user.username,
        "role": user.role,
        "csrf_token": csrf_token(request),
        "path": request.url.path,
    }
