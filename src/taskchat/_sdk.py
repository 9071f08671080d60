"""Every place Taskchat leans on an SDK's private parts, in one module.

Each seam names the pinned version it was written against and why it exists. The rest of
the code reaches SDK internals only through here, and `tests/test_sdk.py` fails loudly
when an upgrade changes what a seam relies on: bump `WRITTEN_AGAINST` only after
re-reading the seams below against the new release.

Workarounds that use public APIs (the history converter, store ids for the provider's
fake message ids) stay next to the code they fix, with their upstream issue.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar, cast

from agents.mcp.server import MCPStreamTransport, _MCPServerWithClientSession
from chatkit.server import ChatKitServer, NonStreamingResult, StreamingResult
from chatkit.types import ChatKitReq, is_streaming_req
from mcp.server._otel import OpenTelemetryMiddleware
from mcp.server.mcpserver import MCPServer as MCPServerApp

WRITTEN_AGAINST = {"openai-chatkit": "1.6.5", "openai-agents": "0.24.0", "mcp": "2.3.0"}
"""The SDK versions these seams were checked against."""

C = TypeVar("C")


# --- openai-chatkit 1.6.5: serving an already-parsed request --------------------------
# `ChatKitServer.process` parses each request with a `TypeAdapter` it builds per call,
# about 18 ms of CPU a request here. We parse with one adapter built once (the route
# needs the parsed request anyway, to answer a bad one with a 400 before streaming) and
# hand it to the two private methods `process` itself dispatches to, exactly as it does.


async def serve_parsed(
    server: ChatKitServer[C], request: ChatKitReq, context: C
) -> StreamingResult | NonStreamingResult:
    """What `server.process(<the request's JSON>, context)` returns, without re-parsing."""
    if is_streaming_req(request):
        return StreamingResult(server._process_streaming(request, context))
    return NonStreamingResult(await server._process_non_streaming(request, context))


# --- openai-agents 0.24 with mcp 2.x: an MCP server in this process -------------------
# The Agents SDK's session handling (timeouts, cleanup, error mapping) lives in a private
# base class of its MCP clients. With mcp 2.x it hands what `create_streams()` returns
# straight to `mcp.Client`, which also accepts a server instance and connects to it over
# memory streams: that is how the tasks tools run in-process, a few milliseconds a turn
# instead of a second to spawn a stdio server.

ClientSessionMCPServer = _MCPServerWithClientSession
"""The Agents SDK's (private) base class of session-backed MCP servers."""


def in_memory_transport(
    server: MCPServerApp[Any],
) -> AbstractAsyncContextManager[MCPStreamTransport]:
    """`server` as a `create_streams()` result: mcp 2.x's client connects to it in-process."""
    return cast(AbstractAsyncContextManager[MCPStreamTransport], server)


# --- mcp 2.3: no OpenTelemetry spans in-process ----------------------------------------
# Every `MCPServer` starts with an OpenTelemetry middleware that wraps each message in a
# span, about 2 ms a message here even with no exporter installed. The middleware list
# is the documented place to change; the class itself lives in a private module.


def without_tracing(server: MCPServerApp[Any]) -> MCPServerApp[Any]:
    """`server` without its per-message OpenTelemetry spans (for in-process servers)."""
    server.middleware[:] = [
        middleware
        for middleware in server.middleware
        if not isinstance(middleware, OpenTelemetryMiddleware)
    ]
    return server


__all__ = [
    "WRITTEN_AGAINST",
    "ClientSessionMCPServer",
    "in_memory_transport",
    "serve_parsed",
    "without_tracing",
]
