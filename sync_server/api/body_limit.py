"""A pure-ASGI guard that refuses request bodies over a size limit with a 413 problem.

It counts the bytes actually received, not only the Content-Length header, because a chunked
upload has none and a client may lie. The body is buffered (it is small by definition) and
replayed to the app only when it fits, so the app never sees a truncated body.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
            await self._refuse(send)
            return
        try:
            messages = await self._read_all(receive)
        except BodyTooLarge:
            await self._refuse(send)
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

    async def _refuse(self, send: Send) -> None:
        body = problem_body(
            413,
            "body_too_large",
            "Request body too large",
            f"the body must not exceed {self.max_body_bytes} bytes",
        )
        payload = json.dumps(body).encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", MEDIA_TYPE.encode()),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _content_length(scope: dict[str, Any]) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
