"""mcp 2.3: no OpenTelemetry spans in-process (seam `untraced_mcp`).

Every `MCPServer` starts with an OpenTelemetry middleware that wraps each message in a
span, even with no exporter installed. The in-process tasks server's calls are part of the
agent run already. The middleware list is the documented place to change; the class
itself lives in a private module. Part of what bench/mcp_overhead.py measures.
"""

from __future__ import annotations

from typing import Any

from mcp.server._otel import OpenTelemetryMiddleware
from mcp.server.mcpserver import MCPServer


def without_tracing(server: MCPServer[Any]) -> MCPServer[Any]:
    """`server` without its per-message OpenTelemetry spans (for in-process servers)."""
    server.middleware[:] = [
        middleware
        for middleware in server.middleware
        if not isinstance(middleware, OpenTelemetryMiddleware)
    ]
    return server


__all__ = ["without_tracing"]
