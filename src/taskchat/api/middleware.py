"""What every request passes through before its route: the proxy headers, believed from
trusted proxies only; a request id, an access log line and request metrics; body-size
limits in the JSON error shape.

Proxy headers. The app reads them itself (`taskchat serve` runs uvicorn without its own),
so one decision, made on the connection's own peer before anything replaces it, covers them
all: only a proxy in FORWARDED_ALLOW_IPS names the client's address (X-Forwarded-For), the
scheme (X-Forwarded-Proto) and the origin the browser used (X-Forwarded-Host), which
`caller_origin` makes the base of URLs handed back to the caller.

Request ids. Taken from a proxy's X-Request-ID or made here, echoed in the response and
stamped on every log line.

Body limits. Pure ASGI, and lazy: the body is counted as the route reads it, so a route's
other checks (the bearer token of /chatkit) still come first, and an unauthenticated caller
never gets its body read. A declared Content-Length over the limit is refused at once; a
chunked body as soon as it passes it. (FastAPI's own `max_body_size` answers in plain text,
not in the `{"error", "detail"}` shape the frontend and clients read.)
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Mapping

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from taskchat.api.errors import problem_json
from taskchat.logs import log_failure, request_id_var
from taskchat.metrics import Metrics

TRUSTED_PROXY = "taskchat.trusted_proxy"
"""The scope key saying whether the connection's peer is a trusted proxy (FORWARDED_ALLOW_IPS)."""

_HOST = re.compile(
    r"(?:[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?"
)


class ProxyHeaders(ProxyHeadersMiddleware):
    """uvicorn's proxy headers (the client's address from X-Forwarded-For, the scheme from
    X-Forwarded-Proto, believed from `trusted_hosts` only), noting first whether the peer
    is one of those proxies: once the client's address replaces the peer's, nobody can
    tell any more."""

    # The two ignores: uvicorn types its middleware with its own typed-dict ASGI messages
    # (uvicorn._types), Starlette with plain mappings; at run time both are the same ASGI.
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            scope[TRUSTED_PROXY] = client is not None and client[0] in self.trusted_hosts
        await super().__call__(scope, receive, send)  # type: ignore[arg-type]


def caller_origin(connection: HTTPConnection, public_url: str) -> str:
    """The origin to build the caller's URLs on (attachment uploads and previews).

    From a trusted proxy (the frontend's): the app's origin it names in X-Forwarded-Host
    and X-Forwarded-Proto, so the browser comes back through it with its cookie; without
    them, the origin it reached us at. From anyone else: `public_url` (PUBLIC_URL, the
    backend's configured address), never something the caller wrote. A value that is not
    one plain host, or not http(s), is ignored.
    """
    if not connection.scope.get(TRUSTED_PROXY):
        return public_url
    host = connection.headers.get("x-forwarded-host", "")
    if _HOST.fullmatch(host):
        scheme = connection.headers.get("x-forwarded-proto", "")
        if scheme not in ("http", "https"):
            scheme = connection.url.scheme
        return f"{scheme}://{host}"
    return str(connection.base_url).rstrip("/")


access_logger = logging.getLogger("taskchat.access")
error_logger = logging.getLogger("taskchat.errors")

INTERNAL_ERROR = problem_json("internal_error", "Something went wrong on the server; try again.")

REQUEST_ID_HEADER = "x-request-id"
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# Paths are metric labels: only known ones, so a scanner cannot grow the label set.
KNOWN_ROUTES = frozenset(
    {
        "/chatkit",
        "/api/tasks",
        "/api/auth/register",
        "/api/auth/login",
        "/healthz",
        "/readyz",
        "/metrics",
    }
)


TASK_ROUTE = "/api/tasks/{task_id}"
_TASK_PATH = re.compile(r"^/api/tasks/[^/]+$")


def route_label(path: str) -> str:
    if path in KNOWN_ROUTES:
        return path
    if _TASK_PATH.match(path):
        # One label for every task id, so ids (made up or real) cannot grow the label set.
        return TASK_ROUTE
    if path == "/mcp" or path.startswith("/mcp/"):
        return "/mcp"
    return "other"


def request_id_from(scope: Scope) -> str:
    """The proxy's id when it looks like one (no spaces, bounded); otherwise a new one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            given = bytes(value).decode("latin-1")
            if _ACCEPTABLE_ID.match(given):
                return given
            break
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Pure ASGI, so streamed responses pass through untouched and are timed to their end."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        method = scope["method"]
        route = route_label(scope["path"])
        recorded = False

        def record() -> float:
            nonlocal recorded
            elapsed = time.perf_counter() - started
            if not recorded:
                recorded = True
                self.metrics.requests.labels(method, route, str(status)).inc()
                self.metrics.request_seconds.labels(method, route).observe(elapsed)
            return elapsed

        started_response = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                started_response = True
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Counted before the last byte goes out, so a client that has read the
                # whole answer and then scrapes /metrics always finds it counted.
                record()
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:
            # Here rather than in Starlette's outer error middleware, so the traceback is
            # logged with the request id and the 500 carries it.
            self.metrics.errors.labels("unhandled").inc()
            log_failure(
                error_logger, "unhandled error in %s %s", method, scope["path"], error=error
            )
            if started_response:
                raise
            status = 500
            await send_with_id(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send_with_id({"type": "http.response.body", "body": INTERNAL_ERROR})
        finally:
            elapsed = record()
            # The path only: query strings can carry what people typed.
            access_logger.info(
                "%s %s %d %.1f ms",
                method,
                scope["path"],
                status,
                elapsed * 1000,
                extra={"status": status, "duration_ms": round(elapsed * 1000, 1)},
            )
            request_id_var.reset(token)


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
