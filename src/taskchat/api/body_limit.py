"""Request bodies with a size limit per path, in the JSON error shape.

Pure ASGI, and lazy: the body is counted as the route reads it, so a route's other checks
(the bearer token of /chatkit) still come first, and an unauthenticated caller never gets
its body read. A declared Content-Length over the limit is refused at once; a chunked body
as soon as it passes it. (FastAPI's own `max_body_size` answers in plain text, not in the
`{"error", "detail"}` shape the frontend and clients read.)
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskchat.api.errors import problem_json


class _Refused(Exception):
    """The 413 has been sent; unwinds the route that was reading the body."""


class BodyLimitMiddleware:
    """413 for a body over the limit of the first path prefix it matches."""

    def __init__(self, app: ASGIApp, limits: Mapping[str, int]) -> None:
        self.app = app
        self.limits = dict(limits)
        """Path prefix -> the most bytes a request body under it may have."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self._limit(scope)
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        size = 0
        refused = False

        async def receive_within_limit() -> Message:
            nonlocal size, refused
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    refused = True
                    await _too_large(send, limit)
                    raise _Refused
            return message

        async def send_unless_refused(message: Message) -> None:
            # FastAPI turns an error while it reads a body model into its own 400; the
            # 413 has gone out already, so that answer goes nowhere.
            if not refused:
                await send(message)

        try:
            await self.app(scope, receive_within_limit, send_unless_refused)
        except _Refused:
            pass

    def _limit(self, scope: Scope) -> int | None:
        if scope["type"] != "http":
            return None
        path: str = scope["path"]
        for prefix, limit in self.limits.items():
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return limit
        return None


async def _too_large(send: Send, limit: int) -> None:
    body = problem_json("body_too_large", f"The request body is over {limit} bytes.")
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
