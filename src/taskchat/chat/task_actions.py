"""The task widgets' buttons (`threads.custom_action`): done and undo, by hand.

Each press is checked against the caller's own tasks (a foreign task id gets the same
answer as a missing one), changes the database, replaces the widget in place, tells the
model in a hidden note what the person did, and asks the page to refresh its tasks. A
press that asks for the state the task already has changes nothing and adds no note.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from chatkit.actions import Action
from chatkit.errors import CustomStreamError
from chatkit.types import (
    ClientEffectEvent,
    HiddenContextItem,
    ThreadItemReplacedEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    WidgetItem,
)
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.chat.store import PostgresStore, chat_id
from taskchat.chat.task_widgets import COMPLETE_ACTION, copy_text_with, with_task
from taskchat.context import RequestContext
from taskchat.tasks import service
from taskchat.tasks.service import TaskNotFoundError
from taskchat.validation import describe

TASKS_CHANGED = "tasks.changed"
"""The client effect after tasks change: `{"ids": [...]}`; the tasks panel reloads."""

GONE_MESSAGE = "That task no longer exists; ask for your list again to see what is there."


class CompletePayload(BaseModel):
    """What a done/undo button sends."""

    model_config = ConfigDict(extra="forbid", strict=True)

    task_id: str
    done: bool


def tasks_changed(*task_ids: str) -> ClientEffectEvent:
    return ClientEffectEvent(name=TASKS_CHANGED, data={"ids": list(task_ids)})


async def handle_action(
    *,
    thread: ThreadMetadata,
    action: Action[str, Any],
    sender: WidgetItem | None,
    context: RequestContext,
    engine: AsyncEngine,
    store: PostgresStore,
) -> AsyncIterator[ThreadStreamEvent]:
    """The events that answer one button press."""
    if action.type != COMPLETE_ACTION:
        raise CustomStreamError(
            f"This button does nothing here (unknown action {action.type[:80]!r}).",
            allow_retry=False,
        )
    try:
        payload = CompletePayload.model_validate(action.payload)
    except ValidationError as error:
        raise CustomStreamError(
            f"This button sent something unexpected: {describe(error)}", allow_retry=False
        ) from None
    try:
        before = await service.get_task(
            engine=engine, user_id=context.user_id, task_id=payload.task_id
        )
        task = (
            before
            if before.done == payload.done
            else await service.set_done(
                engine=engine, user_id=context.user_id, task_id=payload.task_id, done=payload.done
            )
        )
    except TaskNotFoundError:
        raise CustomStreamError(GONE_MESSAGE, allow_retry=False) from None
    if sender is not None:
        widget = with_task(sender.widget, task)
        text = copy_text_with(sender.copy_text, task)
        yield ThreadItemReplacedEvent(
            item=sender.model_copy(update={"widget": widget, "copy_text": text})
        )
    if task.done != before.done:
        state = "done" if task.done else "not done"
        note = f"The user marked the task {task.title!r} ({task.id}) as {state} by hand."
        await store.add_thread_item(
            thread.id,
            HiddenContextItem(
                id=chat_id("message"),
                thread_id=thread.id,
                created_at=datetime.now(UTC),
                content=note,
            ),
            context=context,
        )
        yield tasks_changed(task.id)


__all__ = ["TASKS_CHANGED", "CompletePayload", "handle_action", "tasks_changed"]
