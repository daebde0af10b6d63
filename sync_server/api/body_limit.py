"""A pure-ASGI guard on request bodies: over the size limit, a 413 problem; JSON nested deeper
than the protocol allows, a 400 problem, before any parser recurses into it.

It counts the bytes actually received, not only the Content-Length header, because a chunked
upload has none and a client may lie. The body is buffered (it is small by definition) and
replayed to the app only when it fits, so the app never sees a truncated body. The depth is
checked on every body the API reads as JSON, whatever its declared content type.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qualivilles.json_depth import MAX_JSON_DEPTH, nests_deeper_than
from sync_server.api.problems import MEDIA_TYPE, problem_body


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await _refuse(send, self._too_large())
            return
        try:
            messages = await self._read_all(receive)
        except BodyTooLarge:
            await _refuse(send, self._too_large())
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

    async def _read_all(self, receive: Receive) -> list[Message]:
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                raise BodyTooLarge
            if not message.get("more_body", False):
                return messages

    def _too_large(self) -> dict[str, Any]:
        detail = f"the body must not exceed {self.max_body_bytes} bytes"
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
