"""Tasks as ChatKit widgets: the list a list_tasks call read, and a card per changed task.

Built as plain dicts and validated into the SDK's `DynamicWidgetRoot`, the model that its
own `WidgetTemplate.build` returns: the named widget classes are deprecated, and a dict
needs no string templating, so a task's title can never break the widget's JSON.

Each open/done button carries a `tasks.complete` action (chat/widgets/actions.py) naming the
task and the state it asks for, so a second press of the same button asks for the state
the task already has and changes nothing; a list row's Delete carries `tasks.delete`.
"""

from __future__ import annotations

from typing import Any

from chatkit.types import ClientEffectEvent
from chatkit.widgets import DynamicWidgetRoot, WidgetRoot

from taskchat.tasks.schemas import TaskPublic
from taskchat.tools.activity import Change

COMPLETE_ACTION = "tasks.complete"
"""A widget button's action: payload `{"task_id": ..., "done": bool}`."""

DELETE_ACTION = "tasks.delete"
"""A list row's Delete: payload `{"task_id": ...}`. The person's own click, so it runs at
once (the model's delete_task is what waits for a confirmation)."""

PRIORITY_COLORS = {"high": "danger", "low": "secondary"}

CHANGE_STATUS: dict[Change, tuple[str, str]] = {
    "added": ("Task added", "plus"),
    "updated": ("Task updated", "write"),
    "completed": ("Task done", "check-circle"),
    "reopened": ("Task reopened", "reload"),
    "deleted": ("Task deleted", "check"),
}
"""A card's status line and icon, by what happened to its task."""

Component = dict[str, Any]


def _toggle(task: TaskPublic) -> Component:
    return {
        "type": "Button",
        "label": "Undo" if task.done else "Done",
        "size": "sm",
        "variant": "outline" if task.done else "solid",
        "color": "secondary" if task.done else "primary",
        "onClickAction": {
            "type": COMPLETE_ACTION,
            "payload": {"task_id": task.id, "done": not task.done},
        },
    }


def _details(task: TaskPublic, *, struck: bool = False) -> Component:
    """The title, with its due date and notes beneath."""
    lines: list[Component] = [
        {
            "type": "Text",
            "value": task.title,
            "weight": "medium",
            "lineThrough": task.done or struck,
            "color": "secondary" if task.done or struck else None,
        }
    ]
    caption = []
    if task.due_date:
        caption.append(f"Due {task.due_date.isoformat()}")
    if task.notes:
        caption.append(task.notes)
    if caption:
        lines.append({"type": "Caption", "value": " · ".join(caption), "maxLines": 2})
    return {"type": "Col", "flex": 1, "gap": 1, "children": lines}


def _priority(task: TaskPublic) -> list[Component]:
    if task.priority == "normal":
        return []
    return [{"type": "Badge", "label": task.priority, "color": PRIORITY_COLORS[task.priority]}]


def _delete(task: TaskPublic) -> Component:
    return {
        "type": "Button",
        "label": "Delete",
        "size": "sm",
        "variant": "ghost",
        "color": "danger",
        "onClickAction": {"type": DELETE_ACTION, "payload": {"task_id": task.id}},
    }


def _row(task: TaskPublic, *, deleted: bool = False) -> Component:
    if deleted:
        gone: Component = {"type": "Caption", "value": "Deleted"}
        content = [_details(task, struck=True), gone]
    else:
        content = [_details(task), *_priority(task), _toggle(task), _delete(task)]
    return {
        "type": "ListViewItem",
        "key": task.id,
        "children": [{"type": "Row", "gap": 3, "align": "center", "children": content}],
    }


def _root(widget: Component) -> DynamicWidgetRoot:
    return DynamicWidgetRoot.model_validate(_without_nones(widget))


def _without_nones(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_nones(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nones(item) for item in value]
    return value


def task_list(tasks: list[TaskPublic] | tuple[TaskPublic, ...]) -> DynamicWidgetRoot:
    """A list of tasks, one row each, in the given order."""
    count = len(tasks)
    return _root(
        {
            "type": "ListView",
            "status": {"text": f"{count} task{'' if count == 1 else 's'}", "icon": "check"},
            "children": [_row(task) for task in tasks],
        }
    )


def task_card(change: Change, task: TaskPublic) -> DynamicWidgetRoot:
    """One task, after `change`; a deleted one has no button left."""
    text, icon = CHANGE_STATUS[change]
    deleted = change == "deleted"
    body: list[Component] = [_details(task, struck=deleted), *_priority(task)]
    if not deleted:
        body.append(_toggle(task))
    return _root(
        {
            "type": "Card",
            "size": "sm",
            "status": {"text": text, "icon": icon},
            "children": [{"type": "Row", "gap": 3, "align": "center", "children": body}],
        }
    )


def with_task(widget: WidgetRoot, task: TaskPublic, *, deleted: bool = False) -> DynamicWidgetRoot:
    """`widget` (a list or a card of ours, as stored) showing `task` as it is now (or as
    deleted, without its buttons)."""
    data = widget.model_dump(exclude_none=True)
    if data.get("type") == "ListView":
        data["children"] = [
            _row(task, deleted=deleted) if row.get("key") == task.id else row
            for row in data.get("children", [])
        ]
        return _root(data)
    change: Change = "deleted" if deleted else "completed" if task.done else "reopened"
    return task_card(change, task)


def copy_text(tasks: list[TaskPublic] | tuple[TaskPublic, ...]) -> str:
    """What copying the widget gives, and what the model reads of it later: one line per
    task (`TaskPublic.summary`, which ends with the task's id)."""
    return "\n".join(task.summary() for task in tasks)


def copy_text_with(text: str | None, task: TaskPublic, *, deleted: bool = False) -> str:
    """`text` (from `copy_text`) with `task`'s line as the task is now."""
    line = f"(deleted) {task.summary()}" if deleted else task.summary()
    if not text:
        return line
    marker = f"id={task.id}"
    return "\n".join(line if each.endswith(marker) else each for each in text.splitlines())


TASKS_CHANGED = "tasks.changed"
"""The client effect after tasks change: `{"ids": [...]}`; the tasks panel reloads."""


def tasks_changed(*task_ids: str) -> ClientEffectEvent:
    """The client effect that tells the page these tasks changed."""
    return ClientEffectEvent(name=TASKS_CHANGED, data={"ids": list(task_ids)})


__all__ = [
    "COMPLETE_ACTION",
    "DELETE_ACTION",
    "TASKS_CHANGED",
    "copy_text",
    "copy_text_with",
    "task_card",
    "task_list",
    "tasks_changed",
    "with_task",
]
