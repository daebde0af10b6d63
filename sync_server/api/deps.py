"""Dependencies shared by the routes: storage, settings, the calling device, the logged-in user.

The app keeps one `Storage` and one `Settings` in `app.state`; routes receive them here, so a
test app on a temporary database needs no other wiring. Every JSON route declares who may call
it: `DeviceDep` (an enrolled device) or an `ApiAccess` alias (a user whose role grants a
permission of `sync_server.access`).
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from sync_server.access import Permission, holders, may
from sync_server.api.problems import ApiError
from sync_server.settings import Settings
from sync_server.storage import Device, Storage, User, devices, users

SESSION_USER = "user"


def get_storage(request: Request) -> Storage:
    return request.app.state.storage


def get_settings(request: Request) -> Settings:
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
    challenge = {"WWW-Authenticate": "Bearer"}
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


def session_user(request: Request, storage: Storage) -> User | None:
    """The logged-in dashboard user, if the signed session names one that still exists."""
    username = request.session.get(SESSION_USER)
    if not isinstance(username, str):
        return None
    with storage.read() as connection:
        return users.get(connection, username)


@dataclass(frozen=True)
class ApiAccess:
    """Dependency of a JSON route: the signed-in user whose role grants `permission`; else a
    401 problem (`login_required`) or a 403 problem (`forbidden`). Pages use
    `sync_server.web.access`, which answers with the login page or a 403 page instead."""

    permission: Permission

    def __call__(self, request: Request, storage: StorageDep) -> User:
        user = session_user(request, storage)
        if user is None:
            raise ApiError(401, "login_required", "Login required", "log in to the dashboard first")
        if not may(user, self.permission):
            granted = ", ".join(holders(self.permission))
            raise ApiError(
                403, "forbidden", "Not allowed", f"'{self.permission}' is granted to: {granted}"
            )
        return user


DeviceDep = Annotated[Device, Depends(current_device)]
FleetUserDep = Annotated[User, Depends(ApiAccess(Permission.WATCH_FLEET))]
# The administrator looks after devices and accounts, not the visitors' answers.
IndicatorUserDep = Annotated[User, Depends(ApiAccess(Permission.READ_INDICATORS))]
