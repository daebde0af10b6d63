"""Every user's own password: the current one, then a new one of their choosing.

The page is also where someone signed in with a password an administrator chose is sent, from
every other page, until they have replaced it (`sync_server.web.access`). A wrong current
password counts as a failed sign-in (`login.record_failure`), so the form cannot be used to
guess it faster than the login page; the other sessions of the account end, this one goes on.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from sync_server.api.deps import SESSION_ID, SettingsDep, StorageDep
from sync_server.storage import User, audit, users
from sync_server.storage.users import InvalidAccount, UnknownUser, WrongPassword
from sync_server.web.access import OWN_PASSWORD_PAGE, AnyStaff, Refused, nav_context
from sync_server.web.csrf import CsrfError, check_csrf, rotate_csrf
from sync_server.web.pages.login import (
    MAX_FIELD,
    client_address,
    lock_state,
    record_failure,
    throttle_of,
)
from sync_server.web.templating import render

router = APIRouter(include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store"}


def _page(
    request: Request, user: User, *, error: str | None = None, status_code: int = 200
) -> Response:
    context = {
        **nav_context(request, user),
        "error": error,
        "required": user.must_change_password,
        "done": request.query_params.get("done") == "1",
        "min_length": users.MIN_PASSWORD_LENGTH,
    }
    response = render(request, "own_password.html", context, status_code=status_code)
    response.headers.update(NO_STORE)
    return response


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


@router.get(OWN_PASSWORD_PAGE)
def password_page(request: Request, user: AnyStaff) -> Response:
    return _page(request, user)


@router.post(OWN_PASSWORD_PAGE)
async def change_password(
    request: Request, storage: StorageDep, settings: SettingsDep, user: AnyStaff
) -> Response:
    form = await request.form()
    try:
        check_csrf(request, form.get("csrf_token"))
    except CsrfError:
        raise Refused(user, "csrf") from None
    current, new = _field(form, "current_password"), _field(form, "new_password")
    if new != _field(form, "confirm_password"):
        return _page(request, user, error="mismatch", status_code=400)
    if len(new) > MAX_FIELD:
        return _page(request, user, error="password_long", status_code=400)
    rule, address = throttle_of(settings), client_address(request)
    if lock_state(storage, rule, user.username, address, datetime.now(UTC))[0] is not None:
        return _page(request, user, error="locked", status_code=429)
    session_id = request.session.get(SESSION_ID)
    try:
        with storage.write() as connection:
            users.change_own_password(
                connection,
                user.username,
                current[:MAX_FIELD],
                new,
                keep_session=session_id if isinstance(session_id, str) else None,
            )
            audit.record(connection, audit.by_user(user), "account.password_changed", user.username)
    except WrongPassword:
        await record_failure(storage, rule, user.username, address)
        return _page(request, user, error="wrong_current", status_code=400)
    except InvalidAccount as error:
        return _page(request, user, error=error.code, status_code=400)
    except UnknownUser:
        raise Refused(None) from None
    rotate_csrf(request)
    return RedirectResponse(f"{OWN_PASSWORD_PAGE}?done=1", status_code=303)
