"""The `tasks` MCP server: add, list, update, complete and delete the user's tasks.

Identity never comes from a tool argument. In-process, each turn gets its own server
whose lifespan context is bound to the verified user of that request (`BoundUser`).
Over streamable HTTP, one shared server reads the user from the verified access token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from mcp import Tool as MCPTool
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taskchat._sdk.mcp import without_tracing
from taskchat.errors import TaskchatError
from taskchat.tasks import service
from taskchat.tasks.schemas import Priority, Status, TaskPublic
from taskchat.tools.activity import Change, TaskActivity
from taskchat.tools.ledger import Outcome, TurnCalls
from taskchat.validation import describe

SERVER_NAME = "tasks"

INSTRUCTIONS = (
    "Manage the signed-in user's task list. Task ids look like task_...; use list_tasks "
    "to find them. Every tool acts only on the signed-in user's own tasks."
)


@dataclass(frozen=True)
class BoundUser:
    """Lifespan context of an in-process server: the one user it serves."""

    user_id: str
    engine: AsyncEngine
    activity: TaskActivity | None = None
    """Where the turn learns what the tools did (widgets, the panel's refresh)."""
    calls: TurnCalls | None = None
    """The turn's changes, made once per user message (tools/ledger.py); None: no chat
    message to key them by, each call acts."""


@dataclass(frozen=True)
class SharedEngine:
    """Lifespan context of the HTTP server: users come from each request's token."""

    engine: AsyncEngine


def _scope(ctx: Context[Any, Any]) -> tuple[AsyncEngine, str]:
    lifespan = ctx.request_context.lifespan_context
    if isinstance(lifespan, BoundUser):
        return lifespan.engine, lifespan.user_id
    if isinstance(lifespan, SharedEngine):
        token = get_access_token()
        if token is not None and token.subject:
            return lifespan.engine, token.subject
    # Unreachable through our transports; refuse rather than guess.
    raise ToolError("Not signed in.")


def _activity(ctx: Context[Any, Any]) -> TaskActivity | None:
    """The chat turn's record of tool results; None over HTTP (no chat to show them in)."""
    lifespan = ctx.request_context.lifespan_context
    return lifespan.activity if isinstance(lifespan, BoundUser) else None


def _fail(error: TaskchatError) -> ToolError:
    return ToolError(str(error))


REPEATED = "(Done already while answering this message earlier; not repeated.)"
"""Before the result of a call an earlier turn made for the same message (tools/ledger.py)."""

Write = Callable[[AsyncConnection | None], Awaitable[TaskPublic]]
"""A tool's change, in the given transaction (or its own, with None)."""


async def _change(
    ctx: Context[Any, Any],
    tool: str,
    arguments: dict[str, Any],
    change: Change,
    write: Write,
    answer: Callable[[TaskPublic], str],
) -> str:
    """Make a tool's change, once per call while answering the turn's user message (the
    `calls` of an in-process server); the chat is told (activity) either way."""
    lifespan = ctx.request_context.lifespan_context
    calls = lifespan.calls if isinstance(lifespan, BoundUser) else None

    async def act(conn: AsyncConnection | None) -> Outcome:
        task = await write(conn)
        return Outcome(answer(task), {"change": change, "task": task.model_dump(mode="json")})

    try:
        outcome = await act(None) if calls is None else await calls.once(tool, arguments, act)
    except TaskchatError as error:
        raise _fail(error) from None
    if activity := _activity(ctx):
        # A repeated call shows the task as the first one left it.
        activity.changed(change, TaskPublic.model_validate(outcome.detail["task"]))
    return f"{REPEATED} {outcome.text}" if outcome.repeated else outcome.text


async def add_task(
    title: str,
    ctx: Context[Any, Any],
    notes: str = "",
    priority: Priority = "normal",
    due_date: str | None = None,
) -> str:
    """Add a task to the user's list.

    Args:
        title: What to do, in a few words.
        notes: Optional details.
        priority: low, normal or high.
        due_date: Optional due date as YYYY-MM-DD.
    """
    engine, user_id = _scope(ctx)
    await ctx.report_progress(0, 1, "Adding task…")
    try:
        data = service.parse_create(
            {"title": title, "notes": notes, "priority": priority, "due_date": due_date}
        )
    except TaskchatError as error:
        raise _fail(error) from None
    return await _change(
        ctx,
        "add_task",
        data.model_dump(mode="json"),
        "added",
        lambda conn: service.add_task(engine=engine, user_id=user_id, data=data, within=conn),
        lambda task: f"Added: {task.summary()}",
    )


async def list_tasks(
    ctx: Context[Any, Any],
    status: Status = "open",
    query: str | None = None,
    limit: int = 50,
) -> str:
    """List the user's tasks.

    Args:
        status: open (default), done, or all.
        query: Only tasks whose title or notes contain this text.
        limit: At most this many tasks (1-200).
    """
    engine, user_id = _scope(ctx)
    tasks = await service.list_tasks(
        engine=engine, user_id=user_id, status=status, query=query, limit=limit
    )
    if activity := _activity(ctx):
        activity.listed(tasks)
    if not tasks:
        if query:
            return "No tasks match."
        return "No tasks." if status == "all" else f"No {status} tasks."
    return "\n".join(task.summary() for task in tasks)


async def update_task(
    task_id: str,
    ctx: Context[Any, Any],
    title: str | None = None,
    notes: str | None = None,
    priority: Priority | None = None,
    due_date: str | None = None,
    clear_due_date: bool = False,
) -> str:
    """Change a task's title, notes, priority or due date.

    Args:
        task_id: The task's id (task_...), from list_tasks.
        title: New title.
        notes: New notes.
        priority: low, normal or high.
        due_date: New due date as YYYY-MM-DD.
        clear_due_date: True to remove the due date.
    """
    engine, user_id = _scope(ctx)
    fields: dict[str, Any] = {"clear_due_date": clear_due_date}
    for name, value in (
        ("title", title),
        ("notes", notes),
        ("priority", priority),
        ("due_date", due_date),
    ):
        if value is not None:
            fields[name] = value
    try:
        changes = service.parse_update(fields)
    except TaskchatError as error:
        raise _fail(error) from None
    return await _change(
        ctx,
        "update_task",
        {"task_id": task_id, **changes.model_dump(mode="json")},
        "updated",
        lambda conn: service.update_task(
            engine=engine, user_id=user_id, task_id=task_id, changes=changes, within=conn
        ),
        lambda task: f"Updated: {task.summary()}",
    )


async def complete_task(task_id: str, ctx: Context[Any, Any], done: bool = True) -> str:
    """Mark a task done (or, with done=false, open again).

    Args:
        task_id: The task's id (task_...), from list_tasks.
        done: true to complete it, false to reopen it.
    """
    engine, user_id = _scope(ctx)
    return await _change(
        ctx,
        "complete_task",
        {"task_id": task_id, "done": done},
        "completed" if done else "reopened",
        lambda conn: service.set_done(
            engine=engine, user_id=user_id, task_id=task_id, done=done, within=conn
        ),
        lambda task: f"{'Completed' if done else 'Reopened'}: {task.summary()}",
    )


async def delete_task(task_id: str, ctx: Context[Any, Any]) -> str:
    """Delete a task for good.

    Args:
        task_id: The task's id (task_...), from list_tasks.
    """
    engine, user_id = _scope(ctx)
    return await _change(
        ctx,
        "delete_task",
        {"task_id": task_id},
        "deleted",
        lambda conn: service.delete_task(
            engine=engine, user_id=user_id, task_id=task_id, within=conn
        ),
        lambda task: f"Deleted: {task.title} (id={task.id})",
    )


class PlainWordsTool(Tool):
    """A tool whose bad arguments are refused in plain words ("status must be one of open,
    done, all."), not pydantic's dump with its type codes and URL, which the model would
    relay to the person.

    mcp's `Tool.run` raises a `ToolError` whose `__cause__` is the `ValidationError` when
    the arguments do not fit the tool's schema, and prefixes a refusal the tool raised
    itself with "Error executing tool <name>: " (its documented contract). The model knows
    which tool it called; the sentence is what it relays.
    """

    async def run(
        self, arguments: dict[str, Any], context: Context[Any, Any], convert_result: bool = False
    ) -> Any:
        try:
            return await super().run(arguments, context, convert_result)
        except ToolError as error:
            if isinstance(error.__cause__, ValidationError):
                raise ToolError(describe(error.__cause__)) from None
            prefix = f"Error executing tool {self.name}: "
            if str(error).startswith(prefix):
                raise ToolError(str(error).removeprefix(prefix)) from None
            raise


TOOLS: tuple[Tool, ...] = tuple(
    PlainWordsTool.from_function(fn, structured_output=False)
    for fn in (add_task, list_tasks, update_task, complete_task, delete_task)
)
"""The tools, schemas included, built once at import: every per-turn server reuses them."""


async def list_tool_definitions() -> tuple[MCPTool, ...]:
    """The tools as MCP clients see them in `tools/list`.

    The app computes this once, in its lifespan, and gives it to each turn's in-process
    server, which then answers the model's tool listing without opening a session.
    """
    server = MCPServer(name=SERVER_NAME, tools=list(TOOLS), log_level="WARNING")
    return tuple(await server.list_tools())


Lifespan = Callable[[MCPServer[Any]], AbstractAsyncContextManager[Any]]


def _lifespan(value: BoundUser | SharedEngine) -> Lifespan:
    @asynccontextmanager
    async def lifespan(server: MCPServer[Any]) -> AsyncIterator[BoundUser | SharedEngine]:
        yield value

    return lifespan


def tasks_server_for_user(
    engine: AsyncEngine,
    user_id: str,
    activity: TaskActivity | None = None,
    calls: TurnCalls | None = None,
    *,
    traced: bool = False,
) -> MCPServer[Any]:
    """A tasks server that can only ever act for `user_id` (one per turn, in-process);
    what its tools do is recorded in `activity`, and its changes made once per call of
    the turn's user message with `calls`, when given. Untraced unless `traced`: its calls
    are part of the agent run already."""
    bound = BoundUser(user_id=user_id, engine=engine, activity=activity, calls=calls)
    server: MCPServer[Any] = MCPServer(
        name=SERVER_NAME,
        instructions=INSTRUCTIONS,
        tools=list(TOOLS),
        lifespan=_lifespan(bound),
        log_level="WARNING",
    )
    return server if traced else without_tracing(server)


def shared_tasks_server(engine: AsyncEngine, **options: Any) -> MCPServer[Any]:
    """The tasks server for HTTP clients; `options` carry its token verification."""
    return MCPServer(
        name=SERVER_NAME,
        instructions=INSTRUCTIONS,
        tools=list(TOOLS),
        lifespan=_lifespan(SharedEngine(engine=engine)),
        **options,
    )


__all__ = [
    "TOOLS",
    "BoundUser",
    "SharedEngine",
    "list_tool_definitions",
    "shared_tasks_server",
    "tasks_server_for_user",
]
