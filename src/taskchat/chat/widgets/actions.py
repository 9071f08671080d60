"""The task widgets' buttons (`threads.custom_action`): done, undo and delete, by hand.

Each press is checked against the caller's own tasks (a foreign task id gets the same
answer as a missing one), changes the database, replaces the widget in place, tells the
model in a hidden note what the person did, and asks the page to refresh its tasks. A
press that asks for the state the task already has changes nothing and adds no note.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from chatkit.actions import Action
from chatkit.errors import CustomStreamError
from chatkit.types import (
    HiddenContextItem,
    ThreadItemReplacedEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    WidgetItem,
)
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.chat.store.postgres import PostgresStore, chat_id
from taskchat.chat.widgets.tasks import (
    COMPLETE_ACTION,
    DELETE_ACTION,
    copy_text_with,
    tasks_changed,
    with_task,
)
from taskchat.context import RequestContext
from taskchat.tasks import service
from taskchat.tasks.schemas import TaskPublic
from taskchat.tasks.service import TaskNotFoundError
from taskchat.validation import describe

GONE_MESSAGE = "That task no longer exists; ask for your list again to see what is there."


class CompletePayload(BaseModel):
    """What a done/undo button sends."""

    model_config = ConfigDict(extra="forbid", strict=True)

    task_id: str
    done: bool


class DeletePayload(BaseModel):
    """What a list row's Delete sends."""

    model_config = ConfigDict(extra="forbid", strict=True)

    task_id: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """A press, done: the task now (or as it was, if deleted), and what changed."""

    task: TaskPublic
    deleted: bool = False
    note: str | None = None
    """What the model is told the person did; None when nothing changed."""


Payload = TypeVar("Payload", bound=BaseModel)


def button_payload(model: type[Payload], payload: object) -> Payload:
    """A widget button's payload as `model`, or an error event in plain words."""
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise CustomStreamError(
            f"This button sent something unexpected: {describe(error)}", allow_retry=False
        ) from None


async def _complete(engine: AsyncEngine, user_id: str, payload: object) -> Outcome:
    wanted = button_payload(CompletePayload, payload)
    task, changed = await service.change_done(
        engine=engine, user_id=user_id, task_id=wanted.task_id, done=wanted.done
    )
    if not changed:
        return Outcome(task)  # a stale or repeated press: nothing to do
    state = "done" if task.done else "not done"
    return Outcome(task, note=f"The user marked the task {task.title!r} ({task.id}) as {state}.")


async def _delete(engine: AsyncEngine, user_id: str, payload: object) -> Outcome:
    wanted = button_payload(DeletePayload, payload)
    task = await service.delete_task(engine=engine, user_id=user_id, task_id=wanted.task_id)
    return Outcome(
        task, deleted=True, note=f"The user deleted the task {task.title!r} ({task.id})."
    )


HANDLERS = {COMPLETE_ACTION: _complete, DELETE_ACTION: _delete}
"""The task buttons' actions, by type."""


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
    handler = HANDLERS.get(action.type)
    if handler is None:
        raise CustomStreamError(
            f"This button does nothing here (unknown action {action.type[:80]!r}).",
            allow_retry=False,
        )
    try:
        outcome = await handler(engine, context.user_id, action.payload)
    except TaskNotFoundError:
        raise CustomStreamError(GONE_MESSAGE, allow_retry=False) from None
    task = outcome.task
    if sender is not None:
        widget = with_task(sender.widget, task, deleted=outcome.deleted)
        text = copy_text_with(sender.copy_text, task, deleted=outcome.deleted)
        yield ThreadItemReplacedEvent(
            item=sender.model_copy(update={"widget": widget, "copy_text": text})
        )
    if outcome.note is not None:
        note = f"{outcome.note} (by hand, with the widget's button)"
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


__all__ = ["CompletePayload", "DeletePayload", "handle_action"]
