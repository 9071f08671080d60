"""Answering a message again: which user message a turn answers, and what a retried turn's
model is told of the calls made while answering it before.

ChatKit's `threads.retry_after_item` deletes every item after the user message, hidden
ones included, then runs the turn again (openai-chatkit 1.6.5,
`ChatKitServer._process_streaming_impl`). What the earlier answer's tools did stands, and
is kept apart from the thread (tools/ledger.py): a repeated identical call of the tasks
tools returns its first result. The model is told of those calls too, so it neither
repeats them in other words ("Milk" for "Buy milk") nor says it did nothing: a note at the
end of its input, made from that record for each retry and never stored in the thread, so
the person does not see it.
"""

from __future__ import annotations

import json
import logging

from agents import TResponseInputItem
from chatkit.types import Page, ThreadItem, UserMessageItem
from openai.types.responses import EasyInputMessageParam
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.context import RequestContext
from taskchat.tools.ledger import Recorded, TurnCalls, recorded_calls

logger = logging.getLogger("taskchat.chat")


def answered_message(recent: Page[ThreadItem], *, before: str | None = None) -> str | None:
    """The user message a turn answers, from the thread's latest items (newest first): the
    newest one; for a turn resumed from a confirmation card, the newest one before the
    card (`before`), if the card is among them."""
    newest: str | None = None
    passed = before is None
    for item in recent.data:
        if not isinstance(item, UserMessageItem):
            passed = passed or item.id == before
            continue
        if passed:
            return item.id
        newest = newest or item.id
    return newest


def turn_calls(
    engine: AsyncEngine,
    context: RequestContext,
    thread_id: str,
    message: UserMessageItem | None,
    recent: Page[ThreadItem],
    card: str | None,
) -> TurnCalls | None:
    """What keeps a turn's changes to one per call of the user message it answers
    (tools/ledger.py): `message`, or else the one before the answered confirmation `card`,
    or the newest (the thread's latest items, `recent`, tell); None in a thread without one."""
    message_id = message.id if message is not None else answered_message(recent, before=card)
    if message_id is None:
        return None
    return TurnCalls(engine, context.user_id, thread_id, message_id)


async def with_earlier_calls(
    history: list[TResponseInputItem], calls: TurnCalls
) -> list[TResponseInputItem]:
    """A retried turn's input: `history`, then what was done while answering its message
    before, if anything."""
    earlier = await recorded_calls(
        engine=calls.engine,
        user_id=calls.user_id,
        thread_id=calls.thread_id,
        message_id=calls.message_id,
    )
    if not earlier:
        return history
    logger.info(
        "retry in thread %s: %d call(s) made before for its message",
        calls.thread_id,
        len(earlier),
    )
    return [*history, retry_note(earlier)]


def retry_note(calls: list[Recorded]) -> EasyInputMessageParam:
    """What the model is told, after the message it answers again, of the calls made while
    answering it before (`calls`, oldest first)."""
    lines = "\n".join(
        f"- {call.tool} {json.dumps(call.arguments, ensure_ascii=False)}: {call.text}"
        for call in calls
    )
    text = (
        "Hidden context for the agent (not shown to the user):\n"
        "The user asked for a new answer to their last message. The earlier answer was "
        "discarded, but the tool calls it made took effect, and still stand:\n"
        f"{lines}\n"
        "Do not make them again, in these or other words: an identical call only returns "
        "its earlier result. Answer from what they did."
    )
    return EasyInputMessageParam(type="message", role="user", content=text)


__all__ = ["answered_message", "retry_note", "turn_calls", "with_earlier_calls"]
