"""Sign-in and sign-out of the dashboard (session cookie signed by the app's SessionMiddleware)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sync_server.api.deps import StorageDep, session_user
from sync_server.storage import users
from sync_server.web.csrf import CsrfError, check_csrf, csrf_token, rotate_csrf
from sync_server.web.templating import render

router = APIRouter(include_in_schema=False)

MAX_FIELD = 200  # longer usernames/passwords are refused before hashing (argon2 cost is per byte)


def safe_next(target: object) -> str:
    """Only a local path: `next` must never send a freshly signed-in user to another site."""
    if isinstance(target, str) and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def _login_page(
    request: Request,
    *,
    error: str | None = None,
    username: str = "",
    next_: str = "/",
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "csrf_token": csrf_token(request),
        "error": error,
        "username": username,
        "next": safe_next(next_),
    }
    return render(request, "login.html", context, status_code=status_code)


@router.get("/login")
def login_form(request: Request, storage: StorageDep, next: str = "/", bye: int = 0) -> Response:
    if session_user(request, storage) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, error="logged_out" if bye else None, next_=next)


@router.post("/login")
async def login(request: Request, storage: StorageDep) -> Response:
    form = await request.form()
    username = str(form.get("username") or "").strip()[:MAX_FIELD]
    password = str(form.get("password") or "")
    next_ = str(form.get("next") or "/")
    try:
        check_csrf(request, form.get("csrf_token"))
    except CsrfError:
        return _login_page(request, error="csrf", username=username, next_=next_, status_code=403)
    user = None
    if len(password) <= MAX_FIELD:
        # Storage verifies a decoy hash for unknown names: timing does not reveal who exists.
        with storage.read() as connection:
            user = users.authenticate(connection, username, password)
    if user is None:
        # One message whatever was wrong: the page never says whether the username exists.
        return _login_page(
            request, error="credentials", username=username, next_=next_, status_code=401
        )
    # A new session at sign-in, so nothing planted before authentication survives it.
    request.session.clear()
    request.session["user"] = user.username
    rotate_csrf(request)
    return RedirectResponse(safe_next(next_), status_code=303)


@router.post("/logout")
async def logout(request: Request, storage: StorageDep) -> Response:
    form = await request.form()
    try:
        check_csrf(request, form.get("csrf_token"))
    except CsrfError:
        user = session_user(request, storage)
        context = {
            "error": "csrf",
            "user": user.username if user else None,
            "csrf_token": csrf_token(request),
        }
        return render(request, "error.html", context, status_code=403)
    request.session.clear()
    return RedirectResponse("/login?bye=1", status_code=303)
