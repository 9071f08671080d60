"""Feedback on answers: a person's 👍/👎 on the assistant's messages, kept as one vote per
message (a second click changes it), and read back so a UI can show it after a reload.

ChatKit's `items.feedback` names a thread and items of one response. ChatKit.js may name
every item of the response it was given on: assistant messages, and the widgets, tool
calls or workflows shown with them (openai-chatkit 1.6.5, its "Handle feedback" guide).
So a vote is kept on each assistant message named; the other parts of an answer are
accepted beside one and not kept. A request that names no assistant message, or names a
user message or hidden context, is refused (400). A missing item, another user's, or one
of another thread is a 404 worded exactly like the store's for a missing item.

Not part of the chat store (chat/store/postgres.py): that implements ChatKit's `Store`, which has
no feedback. This module imports nothing of the ChatKit SDK, so GET /api/feedback is
served without it (the SDK loads after start-up; see api/services.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.db.engine import user_transaction_raw
from taskchat.errors import ProblemError, ResourceNotFoundError
from taskchat.text import shortened

Kind = Literal["positive", "negative"]
"""A vote: 👍 or 👎 (ChatKit's `FeedbackKind`)."""

KINDS: tuple[Kind, ...] = get_args(Kind)

KEPT_TYPES = frozenset({"assistant_message"})
"""The items a vote is kept on: the assistant's written answers, where both UIs show the
buttons."""

ANSWER_PARTS = frozenset({"widget", "workflow", "task", "client_tool_call", "generated_image"})
"""Items shown as part of an answer: accepted beside an assistant message, not kept."""

_ITEM_ID_SHOWN = 80
"""The most characters of a client-sent id an error sentence repeats."""


class Vote(BaseModel):
    """The caller's vote on one assistant message."""

    item_id: str
    kind: Kind


async def record_feedback(
    *,
    engine: AsyncEngine,
    user_id: str,
    thread_id: str,
    item_ids: Sequence[str],
    kind: Kind,
) -> int:
    """Keep `kind` as the user's vote on each assistant message of `item_ids` in the
    thread, in one transaction: all of them, or (on a refusal) none.

    Returns:
        How many votes are new or changed; the same vote again changes nothing.

    Raises:
        ResourceNotFoundError: an item is missing, another user's, or of another thread.
        ProblemError: an item cannot take feedback, or none of them is an answer (400).
    """
    # Once each: one statement cannot change a row twice.
    item_ids = list(dict.fromkeys(item_ids))
    async with user_transaction_raw(engine, user_id) as conn:
        # FOR KEY SHARE: the items cannot be deleted (a retry, a thread deleted elsewhere)
        # between this look and the votes that refer to them.
        rows = await conn.fetch(
            "SELECT id, type FROM chat_items "
            "WHERE user_id = $1 AND thread_id = $2 AND id = ANY($3::text[]) FOR KEY SHARE",
            user_id,
            thread_id,
            item_ids,
        )
        answers = _answers(thread_id, item_ids, {row["id"]: row["type"] for row in rows})
        changed = await conn.fetch(
            "INSERT INTO chat_feedback AS f "
            "(user_id, thread_id, item_id, kind, created_at, updated_at) "
            "SELECT $1::text, $2::text, item, $4::text, now(), now() "
            "FROM unnest($3::text[]) AS item "
            "ON CONFLICT (user_id, thread_id, item_id) DO UPDATE "
            "SET kind = EXCLUDED.kind, updated_at = EXCLUDED.updated_at "
            # The same vote again leaves the row (and its time) as it was.
            "WHERE f.kind <> EXCLUDED.kind "
            "RETURNING item_id",
            user_id,
            thread_id,
            answers,
            kind,
        )
    return len(changed)


def _answers(thread_id: str, item_ids: Sequence[str], types: dict[str, str]) -> list[str]:
    """The assistant messages among `item_ids` (whose stored types are `types`), or the
    refusal of the whole request."""
    for item_id in item_ids:
        if item_id not in types:
            raise ResourceNotFoundError(
                f"Item {shortened(item_id, _ITEM_ID_SHOWN)} not found in thread {thread_id}"
            )
    for item_id in item_ids:
        kind = types[item_id]
        if kind not in KEPT_TYPES and kind not in ANSWER_PARTS:
            raise ProblemError(
                f"Feedback is for the assistant's answers; item {item_id} is a "
                f"{kind.replace('_', ' ')}.",
                code="invalid_request",
            )
    answers = [item_id for item_id in item_ids if types[item_id] in KEPT_TYPES]
    if not answers:
        raise ProblemError(
            "Feedback is for the assistant's written answers, and none of the items named is one.",
            code="invalid_request",
        )
    return answers


async def thread_feedback(*, engine: AsyncEngine, user_id: str, thread_id: str) -> list[Vote]:
    """The user's votes in a thread of theirs, oldest vote first.

    Raises:
        ResourceNotFoundError: the thread is missing or another user's.
    """
    async with user_transaction_raw(engine, user_id) as conn:
        exists = await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM chat_threads WHERE user_id = $1 AND id = $2)",
            user_id,
            thread_id,
        )
        if not exists:
            # The store's sentence for a missing thread: another user's is one too.
            raise ResourceNotFoundError(f"Thread {thread_id} not found")
        rows = await conn.fetch(
            "SELECT item_id, kind FROM chat_feedback WHERE user_id = $1 AND thread_id = $2 "
            "ORDER BY created_at, item_id",
            user_id,
            thread_id,
        )
    return [Vote(item_id=row["item_id"], kind=row["kind"]) for row in rows]


__all__ = [
    "ANSWER_PARTS",
    "KEPT_TYPES",
    "KINDS",
    "Kind",
    "Vote",
    "record_feedback",
    "thread_feedback",
]
