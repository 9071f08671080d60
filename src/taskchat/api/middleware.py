"""Per request: an id (taken from a proxy's X-Request-ID or made here), echoed in the
response, stamped on every log line; one access log line; request metrics."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskchat.api.errors import problem_json
from taskchat.logs import log_failure, request_id_var
from taskchat.metrics import Metrics

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
