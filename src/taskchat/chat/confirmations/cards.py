"""What the person sees of a tool call that waits for them: a card asking, with Delete (or
Run) and Keep, and the same card once answered or expired, without its buttons.

The card names what would happen in the person's words: a task by its title, looked up
for this user (never from the model's arguments alone); another server's tool by its
server, name and arguments.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from agents import ToolApprovalItem
from chatkit.types import WidgetItem
from chatkit.widgets import DynamicWidgetRoot
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.chat.widgets.actions import button_payload
from taskchat.tasks import service
from taskchat.tasks.service import TaskNotFoundError
from taskchat.text import shortened

ANSWER_ACTION = "approval.answer"
"""A confirmation card's buttons: payload `{"approval_id": ..., "approve": bool}`."""

DECLINED_MESSAGE = (
    "The user declined this tool call, so it did not run. Tell them it was left as it was, "
    "and do not try it again unless they ask."
)
"""What the model is told when the person presses Keep."""

Outcome = Literal["approved", "declined", "expired"]

CARD_GONE = (
    "This confirmation's card is no longer in the conversation (its answer was retried), "
    "so nothing was done."
)
"""The notice for an answer that did not come from the confirmation's own card."""

ANSWERED: dict[Outcome, str] = {
    "approved": "This was already confirmed.",
    "declined": "This was already answered with Keep.",
    "expired": (
        "This confirmation has expired, so nothing was done; ask again if you still want it."
    ),
}
"""The notice for a press on a card that no longer waits."""

UNKNOWN_APPROVAL = "There is nothing waiting for this answer in this conversation."


class AnswerPayload(BaseModel):
    """What a confirmation card's buttons send."""

    model_config = ConfigDict(extra="forbid", strict=True)

    approval_id: str
    approve: bool


def parse_answer(payload: object) -> AnswerPayload:
    return button_payload(AnswerPayload, payload)


_ENDED: dict[Outcome, tuple[str, str]] = {
    "approved": ("Confirmed", "check-circle"),
    "declined": ("Kept: nothing was done", "check"),
    "expired": ("Expired: nothing was done; ask again if you still want it", "info"),
}


async def describe_calls(
    items: list[ToolApprovalItem], *, engine: AsyncEngine, user_id: str
) -> list[dict[str, Any]]:
    """Each waiting call as the card shows it: `{"tool", "server", "title"}`."""
    described = []
    for item in items:
        tool = item.tool_name or "a tool"
        server = item.tool_origin.mcp_server_name if item.tool_origin else None
        arguments = _arguments(item)
        described.append(
            {
                "tool": tool,
                "server": server,
                "title": await _title(tool, server, arguments, engine=engine, user_id=user_id),
            }
        )
    return described


def _arguments(item: ToolApprovalItem) -> dict[str, Any]:
    raw = getattr(item.raw_item, "arguments", None)
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


async def _title(
    tool: str, server: str | None, arguments: dict[str, Any], *, engine: AsyncEngine, user_id: str
) -> str:
    if server == "tasks" and tool == "delete_task":
        task_id = str(arguments.get("task_id", ""))
        try:
            task = await service.get_task(engine=engine, user_id=user_id, task_id=task_id)
        except TaskNotFoundError:
            return f"Delete task {shortened(task_id, 60)!r} (no such task of yours)?"
        return f"Delete {task.title!r}?"
    shown = shortened(json.dumps(arguments, ensure_ascii=False), 200)
    return f"Run {server + '.' if server else ''}{tool} with {shown}?"


def _is_delete(calls: list[dict[str, Any]]) -> bool:
    return all(call["tool"].startswith("delete") for call in calls)


def _body(calls: list[dict[str, Any]], *, struck: bool = False) -> list[dict[str, Any]]:
    return [
        {"type": "Text", "value": call["title"], "weight": "medium", "lineThrough": struck}
        for call in calls
    ]


def confirmation_card(approval_id: str, calls: list[dict[str, Any]]) -> DynamicWidgetRoot:
    """The question, with the button that runs the calls and the one that keeps things."""

    def answer(approve: bool) -> dict[str, Any]:
        return {"type": ANSWER_ACTION, "payload": {"approval_id": approval_id, "approve": approve}}

    return DynamicWidgetRoot.model_validate(
        {
            "type": "Card",
            "size": "sm",
            "status": {"text": "Needs your confirmation", "icon": "info"},
            "children": [{"type": "Col", "gap": 2, "children": _body(calls)}],
            "confirm": {"label": "Delete" if _is_delete(calls) else "Run", "action": answer(True)},
            "cancel": {"label": "Keep", "action": answer(False)},
        }
    )


def asks_for(card: WidgetItem | None, approval_id: str) -> bool:
    """Whether `card` is the thread's unanswered confirmation card for `approval_id`.

    An answer is taken only from its own card: a retried answer deletes the card with the
    rest of that answer, and its confirmation must not be answerable any more (not by a
    hand-made request naming no card, or another item).
    """
    if card is None:
        return False
    confirm = card.widget.model_dump().get("confirm") or {}
    payload = (confirm.get("action") or {}).get("payload") or {}
    return bool(payload.get("approval_id") == approval_id)


def ended_card(calls: list[dict[str, Any]], outcome: Outcome) -> DynamicWidgetRoot:
    """The card once answered or expired: what was asked, and what came of it."""
    text, icon = _ENDED[outcome]
    return DynamicWidgetRoot.model_validate(
        {
            "type": "Card",
            "size": "sm",
            "status": {"text": text, "icon": icon},
            "children": [
                {"type": "Col", "gap": 2, "children": _body(calls, struck=outcome != "approved")}
            ],
        }
    )


def copy_text(calls: list[dict[str, Any]]) -> str:
    return "\n".join(call["title"] for call in calls)


__all__ = [
    "ANSWER_ACTION",
    "CARD_GONE",
    "DECLINED_MESSAGE",
    "Outcome",
    "asks_for",
    "confirmation_card",
    "copy_text",
    "describe_calls",
    "ended_card",
]
