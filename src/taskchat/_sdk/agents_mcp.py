"""openai-agents 0.24 with mcp 2.x: an MCP server in this process, through the SDK's client.

The Agents SDK's session handling (timeouts, cleanup, error mapping) lives in a private base
class of its MCP clients, `_MCPServerWithClientSession`. With mcp 2.x it hands what
`create_streams()` returns straight to `mcp.Client`, which also accepts a server instance
and connects to it over memory streams: that is how the tasks tools run in-process, a few
milliseconds a turn instead of a second to spawn a stdio server. The class below also
relies on the base's `session` (None until connected), on `connect()` opening it, and on
`call_tool` and `cleanup` using and closing it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, cast

import anyio
from agents import RunContextWrapper
from agents.mcp.server import (
    MCPStreamTransport,
    RequireApprovalSetting,
    _MCPServerWithClientSession,
)
from mcp import Tool as MCPTool
from mcp.server.mcpserver import MCPServer as MCPServerApp
from mcp.types import CallToolResult


class InProcessMCPServer(_MCPServerWithClientSession):
    """Connects the agent to a server built in this process, over memory streams.

    The tool list is static, so it is served without a session, and the session opens
    on the first tool call: most turns call no tool and then cost nothing here.
    """

    def __init__(
        self,
        build: Callable[[], MCPServerApp[Any]],
        *,
        name: str,
        tools: Sequence[MCPTool],
        call_timeout_seconds: float,
        connect_timeout_seconds: float,
        require_approval: RequireApprovalSetting = None,
    ) -> None:
        super().__init__(
            cache_tools_list=True,
            client_session_timeout_seconds=call_timeout_seconds,
            require_approval=require_approval,
        )
        # The server itself is built with the session, on the first tool call.
        self._build = build
        self._name = name
        self._static_tools = tools
        self._connect_timeout = connect_timeout_seconds
        self._opening = asyncio.Lock()
        self._closed = False

    def create_streams(self) -> AbstractAsyncContextManager[MCPStreamTransport]:
        # mcp 2.x's client accepts a server instance where the SDK expects a transport.
        return cast(AbstractAsyncContextManager[MCPStreamTransport], self._build())

    async def connect(self) -> None:
        """Nothing to do yet; see `call_tool`."""

    async def list_tools(
        self, run_context: RunContextWrapper[Any] | None = None, agent: Any = None
    ) -> list[MCPTool]:
        # The same objects every turn, not copies: a deep copy of each tool's schema was
        # half of what listing the tools cost (about 0.25 ms a model call), and the SDK
        # copies a schema before it changes one (`MCPUtil.to_function_tool`; pinned by
        # tests/test_sdk.py).
        return list(self._static_tools)

    async def call_tool(
        self, tool_name: str, arguments: dict[str, Any] | None, meta: dict[str, Any] | None = None
    ) -> CallToolResult:
        async with self._opening:
            if self._closed:
                # The turn is over (a call the run did not cancel in time): no new session.
                raise RuntimeError(f"the {self._name} tools are closed for this turn")
            if self.session is None:
                with anyio.fail_after(self._connect_timeout):
                    await super().connect()  # type: ignore[no-untyped-call]  # untyped in SDK
        return await super().call_tool(tool_name, arguments, meta)

    async def cleanup(self) -> None:
        async with self._opening:
            self._closed = True
        await super().cleanup()  # type: ignore[no-untyped-call]  # untyped in the SDK

    @property
    def name(self) -> str:
        return self._name


__all__ = ["InProcessMCPServer"]
