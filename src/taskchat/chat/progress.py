"""Progress updates in the chat while a tool runs."""

from __future__ import annotations

from typing import Any

from agents import RunContextWrapper, RunHooks, Tool
from chatkit.agents import AgentContext
from chatkit.types import ProgressUpdateEvent

from taskchat.context import RequestContext
from taskchat.metrics import Metrics

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
