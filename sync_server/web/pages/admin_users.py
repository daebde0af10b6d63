"""Dashboard accounts, managed by the administrator: create, change role and services, reset
a password, disable or enable. The quality manager may read the list (who sees which service),
not change it. Every rule lives in `storage.users`; this module turns its errors into a message
on the page, and nothing is changed when one is raised. Each change is recorded in the audit
trail in the same transaction (never the password: only whether it was generated).
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from sync_server.access import Permission, may
from sync_server.api.deps import StorageDep
from sync_server.storage import (
    Connection,
    Storage,
    User,
    UserExists,
    audit,
    login_failures,
    town,
    users,
)
from sync_server.storage.models import ROLES
from sync_server.storage.users import (
    MIN_PASSWORD_LENGTH,
    Account,
    InvalidAccount,
    LastActiveAdmin,
    UnknownUser,
    generate_password,
)
from sync_server.web import throttle
from sync_server.web.access import (
    AccountForm,
    AccountManager,
    AccountReader,
    StaffForm,
    nav_context,
)
from sync_server.web.pages.login import throttle_of
from sync_server.web.templating import render

router = APIRouter(include_in_schema=False)

NOTICES = ("created", "access", "password", "disabled", "enabled", "unlocked")
# A page showing a generated password must not stay in a cache or the browser's history.
NO_STORE = {"Cache-Control": "no-store"}


def _services(connection: Connection) -> dict[str, str]:
    """The town's services, slug → name, in alphabetical order (accents ignored: É with E)."""
    names = {desk.service.slug: desk.service.name for desk in town.desks(connection)}
    return dict(sorted(names.items(), key=lambda item: _sort_key(item[1])))


def _sort_key(name: str) -> str:
    letters = unicodedata.normalize("NFD", name)
    return "".join(c for c in letters if not unicodedata.combining(c)).casefold()


def _common(request: Request, user: User, services: dict[str, str]) -> dict[str, object]:
    done = request.query_params.get("done")
    return {
        **nav_context(request, user),
        "services": services,
        "roles": ROLES,
        "min_password": MIN_PASSWORD_LENGTH,
        "done": done if done in NOTICES else None,
        "who": request.query_params.get("who", "")[:100],
        "error": None,
        "generated": None,
    }


def _list_page(
    request: Request,
    storage: Storage,
    user: User,
    *,
    status_code: int = 200,
    **extra: object,
) -> Response:
    with storage.read() as connection:
        services = _services(connection)
        accounts = users.accounts(connection)
    context = {
        **_common(request, user, services),
        "accounts": accounts,
        "may_edit": may(user, Permission.MANAGE_ACCOUNTS),
        "form": {"username": "", "role": "service_manager", "services": []},
        **extra,
    }
    headers = NO_STORE if extra.get("generated") else None
    response = render(request, "admin_users.html", context, status_code=status_code)
    response.headers.update(headers or {})
    return response


def _edit_page(
    request: Request,
    storage: Storage,
    user: User,
    account: Account,
    *,
    status_code: int = 200,
    **extra: object,
) -> Response:
    now = datetime.now(UTC)
    rule = throttle_of(request.app.state.settings)
    with storage.read() as connection:
        services = _services(connection)
        failures = login_failures.of_account(connection, account.username, now - rule.lookback)
    context = {
        **_common(request, user, services),
        "account": account,
        "is_self": account.username == user.username,
        "locked_until": throttle.lock_end(rule, failures, [], now),
        **extra,
    }
    response = render(request, "admin_user.html", context, status_code=status_code)
    if extra.get("generated"):
        response.headers.update(NO_STORE)
    return response


def _not_found(request: Request, user: User) -> Response:
    context = {**nav_context(request, user), "error": "not_found"}
    return render(request, "error.html", context, status_code=404)


def _back(path: str, **query: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode(query)}", status_code=303)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _services_of(form: FormData) -> list[str]:
    return [value for value in form.getlist("services") if isinstance(value, str)]


@router.get("/admin/users")
def users_page(request: Request, storage: StorageDep, user: AccountReader) -> Response:
    return _list_page(request, storage, user)


@router.post("/admin/users/create")
async def create_user(request: Request, storage: StorageDep, posted: AccountForm) -> Response:
    user, form = posted
    username, role = _text(form, "username").strip(), _text(form, "role")
    services, password = _services_of(form), _text(form, "password")
    generated = None if password else generate_password()
    typed = {"username": username, "role": role, "services": services}
    try:
        with storage.write() as connection:
            account = users.create_account(
                connection,
                username=username,
                password=password or str(generated),
                role=role,
                services=services,
                temporary=True,
            )
            details = access_details(account) | {"generated": generated is not None}
            audit.record(
                connection, audit.by_user(user), "account.created", account.username, details
            )
    except InvalidAccount as error:
        return _list_page(request, storage, user, error=error.code, form=typed, status_code=400)
    except UserExists as error:
        return _list_page(
            request, storage, user, error="duplicate", who=str(error), form=typed, status_code=409
        )
    if generated is None:
        return _back("/admin/users", done="created", who=account.username)
    return _list_page(
        request, storage, user, done="created", who=account.username,
        generated={"username": account.username, "password": generated},
    )  # fmt: skip


def access_details(account: Account) -> dict[str, object]:
    """What an account may reach, as its audit events keep it."""
    return {"role": account.role, "services": list(account.services)}


def access_change(before: Account, after: Account) -> dict[str, object]:
    """The role and services before and after a change, each only if it changed."""
    old, new = access_details(before), access_details(after)
    return {key: audit.change(old[key], new[key]) for key in old if old[key] != new[key]}


def _named_account(
    request: Request, storage: Storage, posted: StaffForm
) -> tuple[User, FormData, Account] | Response:
    """The posting admin, their form and the account it names; or the 404 page."""
    user, form = posted
    with storage.read() as connection:
        account = users.account(connection, _text(form, "username"))
    if account is None:
        return _not_found(request, user)
    return user, form, account


@router.get("/admin/users/edit")
def edit_page(
    request: Request, storage: StorageDep, user: AccountManager, username: str = ""
) -> Response:
    with storage.read() as connection:
        account = users.account(connection, username)
    if account is None:
        return _not_found(request, user)
    return _edit_page(request, storage, user, account)


@router.post("/admin/users/access")
async def set_access(request: Request, storage: StorageDep, posted: AccountForm) -> Response:
    found = _named_account(request, storage, posted)
    if isinstance(found, Response):
        return found
    user, form, account = found
    try:
        with storage.write() as connection:
            before = users.account(connection, account.username)
            after = users.set_access(
                connection, account.username, _text(form, "role"), _services_of(form)
            )
            if before is not None and access_details(before) != access_details(after):
                details = access_change(before, after)
                action = "account.access_changed"
                audit.record(connection, audit.by_user(user), action, after.username, details)
    except InvalidAccount as error:
        return _edit_page(request, storage, user, account, error=error.code, status_code=400)
    except LastActiveAdmin:
        return _edit_page(request, storage, user, account, error="last_admin", status_code=409)
    except UnknownUser:
        return _not_found(request, user)
    return _back("/admin/users/edit", username=account.username, done="access")


@router.post("/admin/users/password")
async def reset_password(request: Request, storage: StorageDep, posted: AccountForm) -> Response:
    found = _named_account(request, storage, posted)
    if isinstance(found, Response):
        return found
    user, form, account = found
    password = _text(form, "password")
    generated = None if password else generate_password()
    try:
        with storage.write() as connection:
            users.set_password(
                connection, account.username, password or str(generated), temporary=True
            )
            details = {"generated": generated is not None}
            action = "account.password_reset"
            audit.record(connection, audit.by_user(user), action, account.username, details)
    except InvalidAccount as error:
        return _edit_page(request, storage, user, account, error=error.code, status_code=400)
    except UnknownUser:
        return _not_found(request, user)
    if generated is None:
        return _back("/admin/users/edit", username=account.username, done="password")
    with storage.read() as connection:
        account = users.account(connection, account.username) or account
    return _edit_page(
        request, storage, user, account, done="password",
        generated={"username": account.username, "password": generated},
    )  # fmt: skip


def _set_disabled(
    request: Request, storage: Storage, posted: StaffForm, disabled: bool
) -> Response:
    found = _named_account(request, storage, posted)
    if isinstance(found, Response):
        return found
    user, _form, account = found
    try:
        with storage.write() as connection:
            before = users.account(connection, account.username)
            after = users.set_disabled(connection, account.username, disabled)
            if before is not None and before.active != after.active:
                action = "account.disabled" if disabled else "account.enabled"
                details = access_details(after)
                audit.record(connection, audit.by_user(user), action, after.username, details)
    except LastActiveAdmin:
        return _edit_page(request, storage, user, account, error="last_admin", status_code=409)
    except UnknownUser:
        return _not_found(request, user)
    done = "disabled" if disabled else "enabled"
    # Whoever disabled their own account has just ended their own session.
    return _back("/admin/users", done=done, who=account.username)


@router.post("/admin/users/disable")
async def disable_user(request: Request, storage: StorageDep, posted: AccountForm) -> Response:
    return _set_disabled(request, storage, posted, True)


@router.post("/admin/users/enable")
async def enable_user(request: Request, storage: StorageDep, posted: AccountForm) -> Response:
    return _set_disabled(request, storage, posted, False)


@router.post("/admin/users/unlock")
async def unlock_sign_in(request: Request, storage: StorageDep, posted: AccountForm) -> Response:
    """Lift a lock-out of the account's name at once (its owner is at the desk, the guessing has
    stopped); failures from the addresses that made them still count against those addresses."""
    found = _named_account(request, storage, posted)
    if isinstance(found, Response):
        return found
    user, _form, account = found
    with storage.write() as connection:
        login_failures.forget_account(connection, account.username)
        audit.record(connection, audit.by_user(user), "session.unlocked", account.username)
    return _back("/admin/users/edit", username=account.username, done="unlocked")
