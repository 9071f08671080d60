"""openai-agents 0.25 with mcp 2.x: MCP servers in this process, their tools converted once,
and a run's agent identity keys.

`InProcessMCPServer` (always on: there is no public in-process client). The Agents SDK's
session handling (timeouts, cleanup, error mapping) lives in a private base class of its MCP
clients, `_MCPServerWithClientSession`. With mcp 2.x it hands what `create_streams()`
returns straight to `mcp.Client`, which also accepts a server instance and connects to it
over memory streams: that is how the tasks tools run in-process, instead of a stdio server
spawned per turn (bench/mcp_overhead.py). The class also relies on the base's `session`
(None until connected), on `connect()` opening it, and on `call_tool` and `cleanup` using
and closing it.

`RoutedMCPServer` (seam `routed_tools`) converts such a server's tools into function tools
once per process, as `MCPUtil.get_all_function_tools` would for the agent's first server
(it relies on `MCPUtil.to_function_tool` calling the server it was given, and on the
recipient binding a paused run checks when it resumes: `FunctionTool._mcp_tool_binding`).
Measured by bench/turn_agent.py.

`agent_identity_map` (seam `agent_identity`). For each run the SDK maps the agents it can
reach (handoffs, agents as tools) to stable keys, at least twice: for its sandbox runtime
when the run starts, and for the tool-use tracker it snapshots after each step.
`_build_agent_identity_map` sorts the agents that share a name by a signature of everything
about each (instructions, model settings, every tool and handoff, serialized to JSON), and
`sorted` computes the signature of a lone agent all the same. This answers a graph whose
names are all distinct with those names, in the SDK's order, and leaves every other graph
to the SDK. Only the module's own function is replaced: the SDK's callers on a run's path
reach it through `_build_agent_identity_keys_by_id`, which looks it up there; the direct
importers (restoring a paused run) keep the SDK's, which gives the same answer. Measured by
bench/turn_agent.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, contextmanager
from contextvars import ContextVar
from typing import Any, cast

import agents._run_state_agent_identity as identity
import anyio
from agents import Agent, FunctionTool, RunContextWrapper
from agents.mcp import MCPServer, MCPUtil
from agents.mcp.server import (
    MCPStreamTransport,
    RequireApprovalSetting,
    _MCPServerWithClientSession,
)
from mcp import Tool as MCPTool
from mcp.server.mcpserver import MCPServer as MCPServerApp
from mcp.types import CallToolResult, GetPromptResult, ListPromptsResult

from taskchat._sdk.patch import Patch


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
        # The same objects every turn, not copies: a deep copy of each tool's schema is
        # most of what listing the tools costs at every model call, and the SDK copies a
        # schema before it changes one (`MCPUtil.to_function_tool`; pinned by
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


class RoutedMCPServer(MCPServer):
    """The tools of a server that each turn opens anew, as function tools made once per
    process: each call goes to the server of the run that makes it.

    Given a turn's servers, the Agents SDK converts their tools at every model call (a copy
    of each schema, a FunctionTool each), and they made an agent per turn
    (bench/turn_agent.py measures both). These tools are converted once, on this stand-in,
    and the process's agent holds them as plain tools (agent/assistant.py).
    `serving(server)` names the turn's server in a context variable around
    `Runner.run_streamed`, which copies the context into the run's task as it creates it;
    each tool call's task copies it from there, so concurrent turns each reach their own
    server.
    """

    def __init__(
        self,
        *,
        name: str,
        tools: Sequence[MCPTool],
        require_approval: RequireApprovalSetting = None,
    ) -> None:
        super().__init__(require_approval=require_approval)
        self._name = name
        self._tools = tuple(tools)
        self._turn: ContextVar[MCPServer | None] = ContextVar(f"{name}_server", default=None)
        self.function_tools = tuple(self._converted(tool) for tool in self._tools)
        """The tools as the agent's first MCP server would give them, for every turn."""

    def _converted(self, tool: MCPTool) -> FunctionTool:
        function_tool = MCPUtil.to_function_tool(tool, self, convert_schemas_to_strict=False)
        # The binding `get_all_function_tools` gives its first server's tools: a paused run
        # resumes only where the binding is the one it paused with.
        assert function_tool._mcp_tool_binding is not None
        server_name, tool_name, _ = function_tool._mcp_tool_binding
        function_tool._mcp_tool_binding = (server_name, tool_name, 0)
        return function_tool

    @contextmanager
    def serving(self, server: MCPServer) -> Iterator[None]:
        """Route the calls of runs started inside this block to `server`."""
        token = self._turn.set(server)
        try:
            yield
        finally:
            self._turn.reset(token)

    async def call_tool(
        self, tool_name: str, arguments: dict[str, Any] | None, meta: dict[str, Any] | None = None
    ) -> CallToolResult:
        server = self._turn.get()
        if server is None:
            raise RuntimeError(f"no {self._name} server serves this run")
        return await server.call_tool(tool_name, arguments, meta)

    async def list_tools(
        self, run_context: RunContextWrapper[Any] | None = None, agent: Any = None
    ) -> list[MCPTool]:
        """None: its tools reach the agent as `function_tools`. Among an agent's MCP servers
        it only keeps the first place, where the turn's server was listed before."""
        return []

    async def connect(self) -> None:
        """Nothing to open: each turn's server is opened by the turn."""

    async def cleanup(self) -> None:
        """Nothing to close: each turn's server is closed by the turn."""

    async def list_prompts(self) -> ListPromptsResult:
        return ListPromptsResult(prompts=[])

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None
    ) -> GetPromptResult:
        raise RuntimeError(f"the {self._name} server has no prompts")

    @property
    def name(self) -> str:
        return self._name


sdk_agent_identity_map = identity._build_agent_identity_map
"""The SDK's own, for graphs where two agents share a name (and to compare with)."""


def agent_identity_map(initial_agent: Agent[Any]) -> dict[str, Agent[Any]]:
    """The SDK's identity map of the graph reachable from `initial_agent`."""
    reachable = list(identity._iter_agent_graph(initial_agent))
    by_name = {agent.name: agent for agent in reachable}
    if len(by_name) == len(reachable):
        return by_name
    return sdk_agent_identity_map(initial_agent)


def patches() -> list[Patch]:
    """`agent_identity_map` for every run (installed by `_sdk/seams.py`)."""
    return [Patch("agent_identity", identity, "_build_agent_identity_map", agent_identity_map)]


__all__ = [
    "InProcessMCPServer",
    "RoutedMCPServer",
    "agent_identity_map",
    "patches",
    "sdk_agent_identity_map",
]
