"""What the tasks tools did during one chat turn, for the chat to show.

The model reads a tool's text; the person sees the same result as a widget (chat/widgets/tasks.py)
and the tasks panel refreshes at once (a `tasks.changed` client effect). Both are built
from the tasks the tool itself read or wrote, not from the model's words, so they show
exactly the user's tasks as they are in the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from taskchat.tasks.schemas import TaskPublic

Change = Literal["added", "updated", "completed", "reopened", "deleted"]


@dataclass(frozen=True, slots=True)
class Listed:
    """A list_tasks call and the tasks it returned, in its order."""

    tasks: tuple[TaskPublic, ...]


@dataclass(frozen=True, slots=True)
class Changed:
    """A task a tool added, changed or deleted; `task` as it is now (or was, if deleted)."""

    change: Change
    task: TaskPublic


TaskEvent = Listed | Changed


@dataclass(slots=True)
class TaskActivity:
    """The tasks tools' results of one turn, in the order they happened, until taken."""

    _events: list[TaskEvent] = field(default_factory=list)

    def listed(self, tasks: list[TaskPublic]) -> None:
        self._events.append(Listed(tuple(tasks)))

    def changed(self, change: Change, task: TaskPublic) -> None:
        self._events.append(Changed(change, task))

    def take(self) -> list[TaskEvent]:
        """What happened since the last call, oldest first."""
        taken, self._events = self._events, []
        return taken


__all__ = ["Change", "Changed", "Listed", "TaskActivity", "TaskEvent"]
