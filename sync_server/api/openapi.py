"""The OpenAPI document (`/openapi.json`): what FastAPI reads from the routes, completed with what
it cannot see, so that an integrator can code against it.

FastAPI describes each route's parameters, body and answer. Added here, for every operation:
- who may call it, read from what the route depends on: `DeviceDep` → the device's bearer token
  (`deviceToken`); an `ApiAccess` → the dashboard session cookie (`session`), or a personal API
  token (`personalToken`) where it accepts one;
- every problem it may answer, as `application/problem+json` with the `Problem` schema: 401/403
  from who may call, 400/422 from reading a body or query, 413 and 400 `too_deep` on every POST
  (the body guard runs before any route), and those the route declares in `responses` (e.g. 409);
- the wire models a route reads by hand (`SyncRequest`), and examples (`api/examples.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

from qualivilles.json_depth import MAX_JSON_DEPTH
from qualivilles.protocol import Problem, SyncRequest
from sync_server.api import examples
from sync_server.api.deps import ApiAccess, current_device
from sync_server.api.problems import MEDIA_TYPE

EXTRA_MODELS: list[type[BaseModel]] = [SyncRequest, Problem]
PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}
# FastAPI's own 422 answer, replaced by `Problem` on every operation.
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


@dataclass(frozen=True)
class Caller:
    """Who may call an operation: its security requirements (any one of them suffices) and the
    problems answered to anyone else."""

    security: list[dict[str, list[str]]]
    problems: dict[int, str]


DEVICE = Caller(
    security=[{"deviceToken": []}],
    problems={
        401: "`missing_token` (no bearer token) or `invalid_token` (unknown, or replaced by a "
        "rotated token already used): enrol again",
        403: "`device_revoked`: an administrator revoked this device",
    },
)
USER = Caller(
    security=[{"session": []}],
    problems={
        401: "`login_required`: no dashboard session",
        403: "`forbidden`: the user's role does not grant this",
    },
)
# A route whose `ApiAccess` accepts personal tokens (reading the figures).
TOKEN_READER = Caller(
    security=[{"session": []}, {"personalToken": []}],
    problems={
        401: "`login_required` (no session nor personal token), `invalid_token` (unknown "
        "personal token), `token_revoked`, or `account_disabled` (the token's owner)",
        403: "`forbidden`: the user's role does not grant this",
    },
)


def security_schemes(session_cookie: str) -> dict[str, dict[str, str]]:
    return {
        "deviceToken": {
            "type": "http",
            "scheme": "bearer",
            "description": "The device token received at enrolment (`POST /api/v1/enrol`) or "
            "from `POST /api/v1/token/rotate`.",
        },
        "session": {
            "type": "apiKey",
            "in": "cookie",
            "name": session_cookie,
            "description": "The signed session cookie of a user logged in to the dashboard.",
        },
        "personalToken": {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token a quality manager creates in the dashboard, "
            "sent as `Authorization: Bearer <token>`.",
        },
    }


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for dependency in dependant.dependencies:
        yield dependency
        yield from _dependencies(dependency)


def caller(route: APIRoute) -> Caller | None:
    """Who may call `route`, from its dependencies; None when anyone may."""
    for dependency in _dependencies(route.dependant):
        if dependency.call is current_device:
            return DEVICE
        if isinstance(dependency.call, ApiAccess):
            return TOKEN_READER if dependency.call.tokens else USER
    return None


def request_problems(method: str, operation: dict[str, Any]) -> dict[int, str]:
    """The problems answered to a request the server cannot read."""
    reasons: dict[int, list[str]] = {}
    if method == "post":
        # The body guard runs before any route, on whatever body comes.
        reasons[413] = ["`body_too_large`: the body exceeds `QV_MAX_BODY_BYTES`"]
        reasons[400] = [f"`too_deep`: arrays and objects nested over {MAX_JSON_DEPTH} levels"]
    if "requestBody" in operation:
        reasons.setdefault(400, []).insert(0, "`invalid_json`: the body is not JSON")
        reasons[422] = ["`invalid_body`: the body does not match its schema (`errors` names each)"]
    if any(parameter["in"] == "query" for parameter in operation.get("parameters", [])):
        reasons.setdefault(422, []).append("`invalid_query`: a query parameter is invalid")
    return {status: "; ".join(texts) for status, texts in reasons.items()}


def describe_problems(route: APIRoute, method: str, operation: dict[str, Any]) -> None:
    """Turn every 4xx answer of `operation` into a problem, adding the ones it may give."""
    responses: dict[str, Any] = operation["responses"]
    fastapi_422 = responses.get("422", {}).get("content", {}).get("application/json", {})
    if fastapi_422.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
        del responses["422"]
    who = caller(route)
    derived = {**(who.problems if who else {})}
    for status, description in request_problems(method, operation).items():
        derived[status] = "; ".join(filter(None, [derived.get(status), description]))
    for status, description in derived.items():
        declared = responses.get(str(status), {}).get("description")
        responses[str(status)] = {"description": "; ".join(filter(None, [description, declared]))}
    for status, response in responses.items():
        if status.startswith("4"):
            response["content"] = {MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}
    operation["responses"] = dict(sorted(responses.items()))
    if who is not None:
        operation["security"] = who.security


def document(
    app: FastAPI,
    routers: list[APIRouter],
    session_cookie: str,
    models: list[type[BaseModel]],
) -> dict[str, Any]:
    """The OpenAPI document of `app`, its operations from `routers` completed (see above)."""
    result = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in schema.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        schemas[model.__name__] = schema
    for route in (route for router in routers for route in router.routes):
        if isinstance(route, APIRoute) and route.include_in_schema:
            for method in sorted(route.methods):
                operation = result["paths"][route.path_format][method.lower()]
                describe_problems(route, method.lower(), operation)
    for name in FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    for name, values in examples.BY_SCHEMA.items():
        schemas[name]["examples"] = values
    components["securitySchemes"] = security_schemes(session_cookie)
    return result


def install(
    app: FastAPI,
    routers: list[APIRouter],
    session_cookie: str,
    models: list[type[BaseModel]] = EXTRA_MODELS,
) -> None:
    """Serve the complete OpenAPI document: the operations of `routers` completed, the
    components also describing `models`."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app, routers, session_cookie, models)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
