"""What the person sees of the tasks tools' work, as the turn goes on: a widget per
result and a `tasks.changed` effect per change, right after each tool call."""

from __future__ import annotations

from typing import Any

from agents import RunContextWrapper, Tool
from chatkit.agents import AgentContext

from taskchat.chat.progress import ToolProgress
from taskchat.chat.task_actions import tasks_changed
from taskchat.chat.task_widgets import copy_text, task_card, task_list
from taskchat.context import RequestContext
from taskchat.metrics import Metrics
from taskchat.tools.activity import Changed, Listed, TaskActivity


class TurnHooks(ToolProgress):
    """One turn's run hooks: progress before each tool call (ToolProgress), and after it
    the tasks it read or changed, from `activity` (filled by the tasks tools)."""

    def __init__(self, metrics: Metrics, activity: TaskActivity) -> None:
        super().__init__(metrics)
        self.activity = activity

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


__all__ = ["TurnHooks"]
