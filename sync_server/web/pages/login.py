"""Sign-in and sign-out of the dashboard.

A sign-in opens a server-side session (`storage.sessions`) whose random id goes into the cookie
signed by the app's SessionMiddleware; signing out deletes the session, so the old cookie opens
nothing any more. Failed sign-ins are counted by name and by client address (`web.throttle`):
each answer waits a little longer, then sign-in is locked for a while. Signing in, signing out
and the lock-out of an existing account are in the audit trail.
"""

from __future__ import annotations

import asyncio
import logging
import math
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sync_server.api.deps import (
    SESSION_ID,
    SettingsDep,
    StorageDep,
    session_lifetime,
    session_user,
)
from sync_server.client_address import rate_limit_key
from sync_server.settings import Settings
from sync_server.storage import Storage, audit, login_failures, sessions, users
from sync_server.web import throttle
from sync_server.web.csrf import CsrfError, check_csrf, csrf_token, rotate_csrf
from sync_server.web.templating import render

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

CLEAR_SITE_DATA = '"cache", "cookies", "storage"'
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
    minutes: int = 0,
) -> HTMLResponse:
    context = {
        "csrf_token": csrf_token(request),
        "error": error,
        "username": username,
        "next": safe_next(next_),
        "minutes": minutes,
    }
    return render(request, "login.html", context, status_code=status_code)


@router.get("/login")
def login_form(request: Request, storage: StorageDep, next: str = "/", bye: int = 0) -> Response:
    if session_user(request, storage) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, error="logged_out" if bye else None, next_=next)


def client_address(request: Request) -> str:
    """What failures are counted under: the client's IPv4 address or IPv6 /64 (behind a reverse
    proxy, the proxy's own unless `QV_TRUSTED_PROXIES` names it, see docs/operations.md)."""
    return rate_limit_key(request.client.host if request.client else None)


def throttle_of(settings: Settings) -> throttle.Throttle:
    return throttle.Throttle(
        per_account=settings.login_failures_per_account,
        per_address=settings.login_failures_per_address,
        window=timedelta(minutes=settings.login_lockout_minutes),
    )


def lock_state(
    storage: Storage, rule: throttle.Throttle, username: str, address: str, now: datetime
) -> tuple[datetime | None, list[datetime], list[datetime]]:
    """When sign-in opens again for this name and address if locked at `now`, and their recent
    failures."""
    since = now - rule.lookback
    with storage.read() as connection:
        account = login_failures.of_account(connection, username, since)
        by_address = login_failures.of_address(connection, address, since)
    return throttle.lock_end(rule, account, by_address, now), account, by_address


@router.post("/login")
async def login(request: Request, storage: StorageDep, settings: SettingsDep) -> Response:
    form = await request.form()
    username = str(form.get("username") or "").strip()[:MAX_FIELD]
    password = str(form.get("password") or "")
    next_ = str(form.get("next") or "/")
    try:
        check_csrf(request, form.get("csrf_token"))
    except CsrfError:
        return _login_page(request, error="csrf", username=username, next_=next_, status_code=403)
    rule, address, now = throttle_of(settings), client_address(request), datetime.now(UTC)
    locked, _, _ = lock_state(storage, rule, username, address, now)
    if locked is not None:
        # Refused before the password is checked: the same answer for a name no account has.
        minutes = max(1, math.ceil((locked - now).total_seconds() / 60))
        return _login_page(
            request, error="locked", username=username, next_=next_, status_code=429,
            minutes=minutes,
        )  # fmt: skip
    user = None
    if len(password) <= MAX_FIELD:
        # Storage verifies a decoy hash for unknown names: timing does not reveal who exists.
        with storage.read() as connection:
            user = users.authenticate(connection, username, password)
    if user is None:
        await record_failure(storage, rule, username, address)
        # One message whatever was wrong: the page never says whether the username exists.
        return _login_page(
            request, error="credentials", username=username, next_=next_, status_code=401
        )
    with storage.write() as connection:
        users.refresh_hash(connection, user.username, password)
        login_failures.forget_account(connection, username)
        sessions.purge(connection, now, session_lifetime(settings))
        session_id = sessions.open_session(connection, user.username, now)
        audit.record(connection, audit.by_user(user), "session.signed_in", now=now)
    # A new session at sign-in, so nothing planted before authentication survives it.
    request.session.clear()
    request.session[SESSION_ID] = session_id
    rotate_csrf(request)
    return RedirectResponse(safe_next(next_), status_code=303)


async def record_failure(
    storage: Storage, rule: throttle.Throttle, username: str, address: str
) -> None:
    """Count a failed sign-in, log a lock-out it starts, and wait as the rule says."""
    now = datetime.now(UTC)
    with storage.write() as connection:
        login_failures.record(connection, username, address, now, rule.lookback)
    locked, account, by_address = lock_state(storage, rule, username, address, now)
    if locked is not None:
        known = _audit_lock_out(storage, username, len(account), now)
        # A name no account has is not written (it may be a password typed in the wrong field).
        named = f"account {known!r}" if known else "a name no account has"
        log.warning(
            "sign-in locked until %s UTC: %d failures for %s, %d from address %s",
            f"{locked:%H:%M}", len(account), named, len(by_address), address,
        )  # fmt: skip
    recent = sum(1 for failed in account if failed > now - rule.window)
    await asyncio.sleep(throttle.delay_seconds(recent))


def _audit_lock_out(storage: Storage, username: str, failures: int, now: datetime) -> str | None:
    """Put a lock-out of an existing account in the audit trail; the account's name, or None for
    a name no account has (not kept: it may be a password typed in the wrong field)."""
    with storage.write() as connection:
        account = users.account(connection, username)
        if account is None:
            return None
        details = {"failures": failures}
        audit.record(connection, audit.SERVER, "session.locked_out", account.username, details, now)
        return account.username


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
    user = session_user(request, storage)
    session_id = request.session.get(SESSION_ID)
    with storage.write() as connection:
        if isinstance(session_id, str):
            sessions.end(connection, session_id)
        if user is not None:
            # Every session of the account ends, on this browser and any other.
            sessions.end_all(connection, user.username)
            audit.record(connection, audit.by_user(user), "session.signed_out")
    request.session.clear()
    # The browser forgets the cookie and any page it kept of the signed-in dashboard.
    return RedirectResponse(
        "/login?bye=1", status_code=303, headers={"Clear-Site-Data": CLEAR_SITE_DATA}
    )
