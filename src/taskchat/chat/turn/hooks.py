"""What the person sees of the tools' work as the turn goes on: a progress line before each
call, then a widget per tasks result and a `tasks.changed` effect per change. Other MCP
servers' calls are remembered for a retry of the turn's message (tools/ledger.py).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from agents import FunctionTool, RunContextWrapper, RunHooks, Tool
from agents.tool import ToolOriginType, get_function_tool_origin
from agents.tool_context import ToolContext
from chatkit.agents import AgentContext
from chatkit.types import ProgressUpdateEvent

from taskchat.chat.widgets.tasks import copy_text, task_card, task_list, tasks_changed
from taskchat.context import RequestContext
from taskchat.logs import log_failure
from taskchat.metrics import Metrics
from taskchat.text import shortened
from taskchat.tools.activity import Changed, Listed, TaskActivity
from taskchat.tools.ledger import TurnCalls
from taskchat.tools.tasks import SERVER_NAME as TASKS_SERVER

LABELS = {
    "add_task": "Adding task…",
    "list_tasks": "Checking your tasks…",
    "update_task": "Updating task…",
    "complete_task": "Updating task…",
    "delete_task": "Deleting task…",
}


def label_for(tool_name: str) -> str:
    """What the user sees while `tool_name` runs."""
    return LABELS.get(tool_name, f"Running {tool_name}…")


class ToolProgress(RunHooks[AgentContext[RequestContext]]):
    """Streams a progress update to the client before each tool call, and counts it."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def on_tool_start(
        self,
        context: RunContextWrapper[AgentContext[RequestContext]],
        agent: Any,
        tool: Tool,
    ) -> None:
        self.metrics.tool_calls.labels(tool.name).inc()
        await context.context.stream(
            ProgressUpdateEvent(icon="check-circle", text=label_for(tool.name))
        )


logger = logging.getLogger("taskchat.chat")

REMEMBERED_CHARS = 2_000
"""The most of an external tool's result kept for a retry's note."""


class TurnHooks(ToolProgress):
    """One turn's run hooks: progress before each tool call (ToolProgress), and after it
    the tasks it read or changed, from `activity` (filled by the tasks tools), and another
    server's call remembered in `calls`."""

    def __init__(
        self, metrics: Metrics, activity: TaskActivity, calls: TurnCalls | None = None
    ) -> None:
        super().__init__(metrics)
        self.activity = activity
        self.calls = calls

    async def on_tool_end(
        self,
        context: RunContextWrapper[AgentContext[RequestContext]],
        agent: Any,
        tool: Tool,
        result: object,
    ) -> None:
        chat = context.context
        for event in self.activity.take():
            if isinstance(event, Listed):
                if event.tasks:  # "No tasks." needs no widget: the answer says it.
                    await chat.stream_widget(task_list(event.tasks), copy_text(event.tasks))
            elif isinstance(event, Changed):
                await chat.stream_widget(task_card(event.change, event.task), event.task.summary())
                await chat.stream(tasks_changed(event.task.id))
        await self._remember(context, tool, result)

    async def _remember(self, context: RunContextWrapper[Any], tool: Tool, result: object) -> None:
        """Keep an external MCP server's call for a retry's note (the tasks tools keep
        their own, and made once)."""
        if self.calls is None or not isinstance(context, ToolContext):
            return
        origin = get_function_tool_origin(tool) if isinstance(tool, FunctionTool) else None
        if origin is None or origin.type != ToolOriginType.MCP:
            return
        if origin.mcp_server_name in (None, TASKS_SERVER):
            return
        try:
            arguments = json.loads(context.tool_arguments or "{}")
        except ValueError:
            arguments = {"arguments": context.tool_arguments}
        if not isinstance(arguments, dict):
            arguments = {"arguments": arguments}
        name = f"{origin.mcp_server_name}.{context.tool_name}"
        try:
            await self.calls.remember(name, arguments, shortened(str(result), REMEMBERED_CHARS))
        except Exception as error:
            # Only a retry's note is the poorer for it: the turn goes on.
            log_failure(logger, "could not remember a call of %s", name, error=error)


__all__ = ["TurnHooks"]
