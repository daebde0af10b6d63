"""Dependencies shared by the routes: storage, settings, the calling device, the logged-in user.

The app keeps one `Storage` and one `Settings` in `app.state`; routes receive them here, so a
test app on a temporary database needs no other wiring. Every JSON route declares who may call
it: `DeviceDep` (an enrolled device) or an `ApiAccess` alias (a user whose role grants a
permission of `sync_server.access`, signed in, or, on the read-only routes that accept one,
presenting a personal API token).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request

from sync_server.access import TOKEN_PERMISSION, Permission, holders, may
from sync_server.api.problems import ApiError
from sync_server.settings import Settings
from sync_server.storage import Device, Storage, User, api_tokens, devices, sessions, users

# The key of the signed session cookie that holds the server-side session's id.
SESSION_ID = "sid"
# What a 401 answer to a Bearer-authenticated route says: send a token (RFC 6750).
CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def get_storage(request: Request) -> Storage:
    # A coroutine: FastAPI runs a plain function dependency on a worker thread, a hop that costs
    # more than reading an attribute, on every request that asks for the storage.
    return request.app.state.storage


async def get_settings(request: Request) -> Settings:
    # A coroutine, as `get_storage`: no worker thread for reading an attribute.
    return request.app.state.settings


StorageDep = Annotated[Storage, Depends(get_storage)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_device(request: Request, storage: StorageDep) -> Device:
    """The enrolled, non-revoked device whose Bearer token came with the request."""
    token = bearer_token(request)
    challenge = CHALLENGE
    if token is None:
        raise ApiError(
            401,
            "missing_token",
            "Missing device token",
            "send 'Authorization: Bearer <token>' as received at enrolment",
            headers=challenge,
        )
    device = devices.authenticate(storage, token)
    if device is None:
        raise ApiError(
            401,
            "invalid_token",
            "Invalid device token",
            "this token is unknown; enrol the device again",
            headers=challenge,
        )
    if device.revoked:
        raise ApiError(
            403,
            "device_revoked",
            "Device revoked",
            "an administrator revoked this device; its unsent data stays on it",
        )
    return device


def session_lifetime(settings: Settings) -> sessions.Lifetime:
    return sessions.Lifetime(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_lifetime_hours),
    )


def session_user(request: Request, storage: Storage) -> User | None:
    """The signed-in dashboard user: the cookie's session id must name a live session in the
    `sessions` table (`storage.sessions`) whose account is active. A session idle or old past
    the settings' limits is ended here; a use is noted on it at most once a minute."""
    session_id = request.session.get(SESSION_ID)
    if not isinstance(session_id, str) or not session_id:
        return None
    now = datetime.now(UTC)
    with storage.read() as connection:
        found = sessions.find(connection, session_id)
        user = None if found is None else users.get(connection, found.username)
    if found is None:
        return None
    if not sessions.is_live(found, now, session_lifetime(request.app.state.settings)):
        with storage.write() as connection:
            sessions.end(connection, session_id)
        return None
    if user is not None and sessions.seen_mark_due(found, now):
        with storage.write() as connection:
            sessions.mark_seen(connection, session_id, now)
    return user


def token_user(request: Request, storage: Storage) -> User | None:
    """The owner of the personal API token the request carries, as their account is now; None
    without one (a device's token is none). An unknown or revoked token, or one whose owner is
    disabled, is a 401 problem; an owner whose role no longer reads figures, a 403 problem. A use
    is noted on the token (`last_used_at`, at most once a minute)."""
    secret = bearer_token(request)
    if secret is None or not api_tokens.is_api_token(secret):
        return None
    with storage.read() as connection:
        token = api_tokens.by_secret(connection, secret)
        user = None if token is None else users.get(connection, token.username)
    if token is None:
        raise ApiError(
            401,
            "invalid_token",
            "Invalid API token",
            "this token is unknown to this server; create one on the dashboard",
            headers=CHALLENGE,
        )
    if token.revoked:
        raise ApiError(
            401,
            "token_revoked",
            "API token revoked",
            "this token was revoked; create a new one on the dashboard",
            headers=CHALLENGE,
        )
    if user is None:
        raise ApiError(
            401,
            "account_disabled",
            "Account disabled",
            "the account this token belongs to is disabled",
            headers=CHALLENGE,
        )
    if not may(user, TOKEN_PERMISSION):
        raise not_allowed(TOKEN_PERMISSION)
    # Which token opened the request: the audit trail names it with a download.
    request.state.api_token_id = token.id
    now = datetime.now(UTC)
    if api_tokens.use_mark_due(token, now):
        with storage.write() as connection:
            api_tokens.mark_used(connection, token.id, now)
    return user


def not_allowed(permission: Permission) -> ApiError:
    """The 403 problem for a user whose role does not grant `permission`."""
    granted = ", ".join(holders(permission))
    return ApiError(403, "forbidden", "Not allowed", f"'{permission}' is granted to: {granted}")


@dataclass(frozen=True)
class ApiAccess:
    """Dependency of a JSON route: the signed-in user whose role grants `permission`; else a
    401 problem (`login_required`) or a 403 problem (`forbidden`). With `tokens`, a personal
    API token (`Authorization: Bearer qvt_…`) stands for its owner instead (`token_user`); only
    read-only routes of figures take one. Pages use `sync_server.web.access`, which answers with
    the login page or a 403 page instead."""

    permission: Permission
    tokens: bool = False

    def __call__(self, request: Request, storage: StorageDep) -> User:
        user = token_user(request, storage) if self.tokens else None
        if user is None:
            user = session_user(request, storage)
        if user is None:
            detail = "log in to the dashboard first"
            if self.tokens:
                detail += ", or send 'Authorization: Bearer <personal API token>'"
            headers = CHALLENGE if self.tokens else None
            raise ApiError(401, "login_required", "Login required", detail, headers=headers)
        if user.must_change_password:
            raise ApiError(
                403,
                "password_change_required",
                "Password change required",
                "choose your own password on the dashboard first (/account/password)",
            )
        if not may(user, self.permission):
            raise not_allowed(self.permission)
        return user


DeviceDep = Annotated[Device, Depends(current_device)]
FleetUserDep = Annotated[User, Depends(ApiAccess(Permission.WATCH_FLEET))]
# The administrator looks after devices and accounts, not the visitors' answers. A spreadsheet
# or BI tool reads the figures with its user's personal API token.
IndicatorUserDep = Annotated[User, Depends(ApiAccess(Permission.READ_INDICATORS, tokens=True))]
