"""The per-turn set of MCP servers the agent may use.

The built-in tasks server runs in-process (far cheaper than a stdio server spawned per
turn: bench/mcp_overhead.py), bound to the verified user of the turn; the agent
reaches it through function tools made once per process (`RoutedMCPServer`). External
servers come from settings, and the agent lists their tools itself. A server that fails
to connect in time is left out of the turn with a notice, and every server is cleaned up
however the turn ends.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

import anyio
from agents import FunctionTool, RunContextWrapper
from agents.mcp import MCPServer, MCPServerStdio, MCPServerStreamableHttp
from agents.mcp.server import RequireApprovalSetting
from chatkit.agents import AgentContext
from chatkit.types import NoticeEvent
from mcp import Tool as MCPTool
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat._sdk.agents import InProcessMCPServer, RoutedMCPServer
from taskchat._sdk.seams import Seams
from taskchat.config import ExternalMCPServer, Settings
from taskchat.tools.activity import TaskActivity
from taskchat.tools.ledger import TurnCalls
from taskchat.tools.tasks import SERVER_NAME, tasks_server_for_user

logger = logging.getLogger("taskchat.tools")


def tool_failure_notice(server_name: str) -> Callable[..., Awaitable[str]]:
    """What happens when a tool of an external server fails or times out.

    The user sees a short notice in the chat, and the model gets a message it can relay
    instead of an exception, so the turn still answers.
    """

    async def on_failure(ctx: RunContextWrapper[Any], error: Exception) -> str:
        logger.warning("MCP tool call on %s failed: %s", server_name, type(error).__name__)
        if isinstance(ctx.context, AgentContext):
            await ctx.context.stream(
                NoticeEvent(
                    level="warning",
                    message=f"The {server_name} tools did not answer; continuing without them.",
                )
            )
        return (
            f"The {server_name} tool failed ({type(error).__name__}). Tell the user it is "
            "unavailable right now and continue without it."
        )

    return on_failure


def external_server(spec: ExternalMCPServer, settings: Settings) -> MCPServer:
    """The Agents SDK client for one configured external server."""
    call_timeout = spec.call_timeout_seconds or settings.mcp_call_timeout_seconds
    if spec.url is not None:
        return MCPServerStreamableHttp(
            params={
                "url": spec.url,
                "headers": spec.headers,
                "timeout": spec.connect_timeout_seconds or settings.mcp_connect_timeout_seconds,
                "sse_read_timeout": call_timeout,
            },
            name=spec.name,
            cache_tools_list=True,
            client_session_timeout_seconds=call_timeout,
            failure_error_function=tool_failure_notice(spec.name),
            require_approval=confirmation_policy(spec.confirm_tools),
        )
    assert spec.command is not None
    return MCPServerStdio(
        params={"command": spec.command, "args": spec.args, "env": spec.env},
        name=spec.name,
        cache_tools_list=True,
        client_session_timeout_seconds=call_timeout,
        failure_error_function=tool_failure_notice(spec.name),
        require_approval=confirmation_policy(spec.confirm_tools),
    )


CONFIRMED_TASKS_TOOLS = ("delete_task",)
"""The built-in tools the person confirms before they run: the destructive ones."""


def confirmation_policy(tool_names: Sequence[str]) -> RequireApprovalSetting:
    """The Agents SDK's approval setting for `tool_names`: the run pauses at a call of one
    of them, and goes on only once the person has answered (chat/confirmations/approvals.py)."""
    if not tool_names:
        return None
    return {"always": {"tool_names": list(tool_names)}}


@dataclass
class ToolServers:
    """The servers connected for one turn, and notices about those left out."""

    servers: list[MCPServer] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    route: tuple[RoutedMCPServer, MCPServer] | None = None
    """The built-in tools' stand-in, and this turn's server it routes their calls to."""

    @property
    def tools(self) -> list[FunctionTool]:
        """The built-in tools (made once per process), if their server connected."""
        return list(self.route[0].function_tools) if self.route is not None else []

    @property
    def listed(self) -> list[MCPServer]:
        """The servers whose tools the agent lists itself: the external ones, after the
        built-in tools' stand-in, which lists none but keeps the first place. The SDK binds
        each listed tool to its server's place, and a paused run resumes only with the
        binding it paused with: the external tools keep the places they had when the
        built-in server was listed first."""
        if self.route is None:
            return list(self.servers)
        stand_in, routed = self.route
        external = [server for server in self.servers if server is not routed]
        return [stand_in, *external] if external else []

    @contextmanager
    def routed(self) -> Iterator[None]:
        """Route the built-in tools' calls of a run started in this block to this turn's
        server (`Runner.run_streamed` starts the run's task with this context)."""
        if self.route is None:
            yield
            return
        stand_in, server = self.route
        with stand_in.serving(server):
            yield


async def _connect(server: MCPServer, limit_seconds: float) -> BaseException | None:
    try:
        # A scope, not wait_for: the connection must be opened in this task, the one
        # that later closes it.
        with anyio.fail_after(limit_seconds):
            await server.connect()  # type: ignore[no-untyped-call]  # untyped in the SDK
    except Exception as error:
        return error
    return None


async def _cleanup(server: MCPServer) -> None:
    # Shielded: a cancelled turn (client disconnect) must still close its sessions.
    with anyio.CancelScope(shield=True):
        try:
            await server.cleanup()  # type: ignore[no-untyped-call]  # untyped in the SDK
        except Exception:
            logger.warning("MCP server %s did not clean up cleanly", server.name, exc_info=True)


@dataclass(frozen=True)
class TurnTools:
    """What each turn's MCP servers are made from: one per app, built in its lifespan."""

    settings: Settings
    """MCP_SERVERS and the timeouts."""

    engine: AsyncEngine
    """The database the tasks tools act on."""

    tasks_tools: tuple[MCPTool, ...]
    """The tasks server's `tools/list` (`list_tool_definitions`), computed once."""

    @cached_property
    def seams(self) -> Seams:
        """With the seams on (`SDK_SEAMS`), the tasks tools are function tools made once per
        process (`tasks_route`) and their in-process server skips mcp's per-message
        tracing; off, the agent lists and converts them from each turn's server, the SDK's
        own way."""
        return Seams.of(self.settings)

    @property
    def function_tools(self) -> tuple[FunctionTool, ...]:
        """The tasks tools every turn's agent holds (none when it lists them itself)."""
        return self.tasks_route.function_tools if self.seams.on else ()

    @cached_property
    def tasks_route(self) -> RoutedMCPServer:
        """The tasks tools as function tools, made once, each call routed to its turn's
        server."""
        return RoutedMCPServer(
            name=SERVER_NAME,
            tools=self.tasks_tools,
            require_approval=confirmation_policy(CONFIRMED_TASKS_TOOLS),
        )

    def open(
        self,
        user_id: str,
        activity: TaskActivity | None = None,
        calls: TurnCalls | None = None,
    ) -> AbstractAsyncContextManager[ToolServers]:
        """Connect the servers of one turn for `user_id`, the verified caller; they all
        close when the turn ends. The tasks tools record what they do in `activity`, and
        make each change once per call of the turn's user message with `calls`."""
        return _tool_servers(self, user_id, activity, calls)


@asynccontextmanager
async def _tool_servers(
    source: TurnTools, user_id: str, activity: TaskActivity | None, calls: TurnCalls | None
) -> AsyncIterator[ToolServers]:
    settings, engine = source.settings, source.engine
    tasks = InProcessMCPServer(
        partial(
            tasks_server_for_user, engine, user_id, activity, calls, traced=not source.seams.on
        ),
        name=SERVER_NAME,
        tools=source.tasks_tools,
        call_timeout_seconds=settings.mcp_call_timeout_seconds,
        connect_timeout_seconds=settings.mcp_connect_timeout_seconds,
        require_approval=confirmation_policy(CONFIRMED_TASKS_TOOLS),
    )
    candidates: list[tuple[MCPServer, float]] = [(tasks, settings.mcp_connect_timeout_seconds)]
    for spec in settings.mcp_servers:
        candidates.append(
            (
                external_server(spec, settings),
                spec.connect_timeout_seconds or settings.mcp_connect_timeout_seconds,
            )
        )
    result = ToolServers()
    opened: list[MCPServer] = []
    try:
        for server, timeout in candidates:
            opened.append(server)
            error = await _connect(server, timeout)
            if error is None:
                result.servers.append(server)
                if server is tasks and source.seams.on:
                    result.route = (source.tasks_route, tasks)
                continue
            reason = "timed out" if isinstance(error, TimeoutError) else type(error).__name__
            logger.warning("MCP server %s left out of this turn: %s", server.name, reason)
            result.notices.append(
                f"The {server.name} tools are unavailable right now; answering without them."
            )
        yield result
    finally:
        for server in reversed(opened):
            await _cleanup(server)
