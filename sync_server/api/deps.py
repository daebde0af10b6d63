"""Dependencies shared by the routes: storage, settings, the calling device, the logged-in user.

The app keeps one `Storage` and one `Settings` in `app.state`; routes receive them here, so a
test app on a temporary database needs no other wiring.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

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


def current_user(request: Request, storage: StorageDep) -> User:
    """For API routes: a 401 problem when nobody is logged in (pages redirect instead)."""
    user = session_user(request, storage)
    if user is None:
        raise ApiError(401, "login_required", "Login required", "log in to the dashboard first")
    return user


def fleet_user(user: Annotated[User, Depends(current_user)]) -> User:
    """A user who may watch the whole fleet: an administrator or the quality manager."""
    if user.role not in ("admin", "quality_manager"):
        raise ApiError(
            403, "forbidden", "Not allowed",
            "only an administrator or a quality manager may see the fleet",
        )  # fmt: skip
    return user


def indicator_user(user: Annotated[User, Depends(current_user)]) -> User:
    """A user who may read the visitors' figures: the quality manager or a service manager
    (the administrator looks after devices and accounts, not the answers)."""
    if user.role not in ("quality_manager", "service_manager"):
        raise ApiError(
            403, "forbidden", "Not allowed",
            "only the quality manager and service managers may read the indicators",
        )  # fmt: skip
    return user


DeviceDep = Annotated[Device, Depends(current_device)]
UserDep = Annotated[User, Depends(current_user)]
FleetUserDep = Annotated[User, Depends(fleet_user)]
IndicatorUserDep = Annotated[User, Depends(indicator_user)]
