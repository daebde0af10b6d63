"""A pure-ASGI guard on request bodies: over the size limit, a 413 problem; JSON nested deeper
than the protocol allows, a 400 problem, before any parser recurses into it.

It counts the bytes actually received, not only the Content-Length header, because a chunked
upload has none and a client may lie. The body is buffered (it is small by definition) and
replayed to the app only when it fits, so the app never sees a truncated body. The depth is
checked on every body the API reads as JSON, whatever its declared content type.

A few form routes take a file (an audit finding's evidence: a scanned PDF, a photo): they are
listed with their own, larger limit; every other route keeps the server's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qualivilles.json_depth import MAX_JSON_DEPTH, nests_deeper_than
from sync_server.api.problems import MEDIA_TYPE, problem_body


class BodyTooLarge(Exception):
    pass


UploadRoute = tuple[str, re.Pattern[str], int]  # method, path, the largest body it takes


def upload_route(method: str, path_pattern: str, max_bytes: int) -> UploadRoute:
    """A route allowed a larger body than the server's: `path_pattern` matches the whole path."""
    return method, re.compile(path_pattern), max_bytes


def body_limit_for(
    method: str, path: str, default: int, uploads: Sequence[UploadRoute] = ()
) -> int:
    """The largest body a request may send: its upload route's limit, else `default`."""
    for route_method, pattern, max_bytes in uploads:
        if method == route_method and pattern.fullmatch(path):
            return max(default, max_bytes)
    return default


class BodyLimitMiddleware:
    def __init__(
        self, app: ASGIApp, max_body_bytes: int, uploads: Sequence[UploadRoute] = ()
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.uploads = tuple(uploads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit_for(scope["method"], scope["path"], self.max_body_bytes, self.uploads)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, self._too_large(limit))
            return
        try:
            messages = await self._read_all(receive, limit)
        except BodyTooLarge:
            await _refuse(send, self._too_large(limit))
            return
        if _read_as_json(scope) and nests_deeper_than(_body(messages)):
            await _refuse(send, TOO_DEEP)
            return
        replay = iter(messages)

        async def replaying_receive() -> Message:
            message = next(replay, None)
            # After the body, behave like the server: wait for the client's disconnect.
            return message if message is not None else await receive()

        await self.app(scope, replaying_receive, send)

    async def _read_all(self, receive: Receive, limit: int) -> list[Message]:
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages
            size += len(message.get("body", b""))
            if size > limit:
                raise BodyTooLarge
            if not message.get("more_body", False):
                return messages

    def _too_large(self, limit: int) -> dict[str, Any]:
        detail = f"the body must not exceed {limit} bytes"
        return problem_body(413, "body_too_large", "Request body too large", detail)


TOO_DEEP = problem_body(
    400,
    "too_deep",
    "JSON nested too deeply",
    f"arrays and objects may nest at most {MAX_JSON_DEPTH} levels deep",
)


async def _refuse(send: Send, problem: dict[str, Any]) -> None:
    status = problem["status"]
    payload = json.dumps(problem).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", MEDIA_TYPE.encode()),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _read_as_json(scope: Scope) -> bool:
    """The device API reads bodies as JSON whatever their content type; elsewhere, the type says."""
    if scope.get("path", "").startswith("/api/"):
        return True
    return any(
        name == b"content-type" and b"json" in value.lower()
        for name, value in scope.get("headers", [])
    )


def _body(messages: list[Message]) -> bytes:
    return b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")


def _content_length(scope: dict[str, Any]) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
