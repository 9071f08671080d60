"""Thread history as model input that both model paths accept."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from agents import TResponseInputItem
from chatkit.agents import ThreadItemConverter
from chatkit.types import AssistantMessageItem, UserMessageTagContent, WidgetItem
from openai.types.responses import EasyInputMessageParam, ResponseInputContentParam
from openai.types.responses.response_input_text_param import ResponseInputTextParam

from taskchat.tasks.schemas import TaskPublic

TaskLookup = Callable[[str], Awaitable[TaskPublic | None]]
"""The turn's user's task with this id, or None (missing, or someone else's)."""


class HistoryConverter(ThreadItemConverter):
    """One turn's history as model input.

    Stored assistant messages become plain text: the SDK's default renders them as
    `output_text` parts, which the Agents SDK's chat-completions converter rejects
    ("Unknown content"), breaking the second turn with any OpenAI-compatible provider. A
    plain string is valid on both paths.

    An @-mentioned task becomes the task as it is now, looked up by its id for the turn's
    user (`tasks`): the tag's text and data come from the browser and are not trusted.
    """

    def __init__(self, tasks: TaskLookup | None = None) -> None:
        self.tasks = tasks

    async def assistant_message_to_input(
        self, item: AssistantMessageItem
    ) -> TResponseInputItem | list[TResponseInputItem] | None:
        text = "".join(part.text for part in item.content)
        if not text.strip():
            return None
        return EasyInputMessageParam(type="message", role="assistant", content=text)

    async def widget_to_input(
        self, item: WidgetItem
    ) -> TResponseInputItem | list[TResponseInputItem] | None:
        # The SDK's default sends the widget's whole JSON; its copy text (one line per task
        # for ours, chat/task_widgets.py) says the same in a tenth of the tokens.
        if not item.copy_text:
            return await super().widget_to_input(item)
        text = f"Shown to the user as a widget (id: {item.id}):\n{item.copy_text}"
        return EasyInputMessageParam(type="message", role="user", content=text)

    async def tag_to_message_content(self, tag: UserMessageTagContent) -> ResponseInputContentParam:
        # The SDK raises NotImplementedError here, which would break every later turn of a
        # thread holding a tagged message.
        task = await self.tasks(tag.id) if self.tasks and tag.id.startswith("task_") else None
        if task is None:
            # Not a task of this user's (or gone): nothing but what they typed.
            text = f"@{tag.text} is not one of the user's tasks (it may have been deleted)."
        else:
            text = f"@{tag.text} refers to this task of the user's, as it is now: {task.summary()}"
        return ResponseInputTextParam(type="input_text", text=text)
