"""Errors as `application/problem+json` (RFC 9457) with a stable `code` a client can act on."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from qualivilles.protocol import Problem

PROBLEM_TYPE_BASE = "https://qualivilles.example/problems/"
MEDIA_TYPE = "application/problem+json"


class ApiError(Exception):
    """Raised by handlers and dependencies; turned into a problem response by the app."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail or title)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers


def problem_body(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    problem = Problem(
        type=PROBLEM_TYPE_BASE + code,
        title=title,
        status=status,
        code=code,
        detail=detail or title,
        errors=errors or None,
    )
    return problem.model_dump(mode="json")


def problem_response(error: ApiError) -> JSONResponse:
    body = problem_body(error.status, error.code, error.title, error.detail, error.errors)
    return JSONResponse(
        body, status_code=error.status, media_type=MEDIA_TYPE, headers=error.headers
    )


def _path(loc: tuple[Any, ...]) -> str:
    # FastAPI prefixes locations with "body"/"query"; the client only needs the field path.
    parts = [str(part) for part in loc[1:]] if loc and loc[0] in ("body", "query") else list(loc)
    return ".".join(str(part) for part in parts) or "(body)"


def validation_problem(error: RequestValidationError) -> ApiError:
    items = list(error.errors())
    if any(item.get("type") == "json_invalid" for item in items):
        context = items[0].get("ctx", {}).get("error", "")
        return ApiError(400, "invalid_json", "Malformed JSON", f"the body is not JSON: {context}")
    in_query = any(item.get("loc", ("",))[0] == "query" for item in items)
    errors = [
        {"path": _path(tuple(item.get("loc", ()))), "message": item["msg"], "type": item["type"]}
        for item in items
    ]
    detail = "; ".join(f"{e['path']}: {e['message']}" for e in errors)
    if in_query:
        return ApiError(422, "invalid_query", "Invalid query parameters", detail, errors)
    return ApiError(422, "invalid_body", "Invalid request body", detail, errors)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every API error into a problem response."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, error: ApiError) -> JSONResponse:
        return problem_response(error)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, error: RequestValidationError) -> JSONResponse:
        return problem_response(validation_problem(error))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        # FastAPI answers 400 itself only when a body it reads is not JSON.
        codes = {
            400: "invalid_json",
            401: "unauthorized",
            404: "not_found",
            405: "method_not_allowed",
        }
        code = codes.get(error.status_code, f"http_{error.status_code}")
        return problem_response(
            ApiError(error.status_code, code, str(error.detail), headers=error.headers)
        )
