"""Side-effecting tool calls, made at most once per user message.

A person may ask for a new answer to a message (ChatKit's `threads.retry_after_item`): the
SDK deletes every item after the message and runs the turn again. What the first attempt's
tools did is not undone, and the model, asked again, would do it again: a retried "add
milk" would leave two tasks. So each side-effecting call of the tasks tools is kept here,
keyed by the user message the turn answers, the tool, its arguments as validated (so
" Milk" and "Milk" are one call), and its place among identical calls while answering that
message (the first, the second...). A later turn answering the same message that makes the
same call gets the first result back instead of acting again; a different call acts.

The change and its record are one transaction, under the user's advisory lock: a call is
either done and recorded or neither, and two retries at once cannot both act. The rows go
with their message (a foreign key to `chat_items`), and so with their thread.

Only the built-in tasks tools' calls are made once here. An external MCP server's call has
been made by the time we see it, and repeating it is that server's business: it is only
remembered (`TurnCalls.remember`), so that a retried turn's model is told of it too
(chat/turn/retries.py). `/mcp`'s clients have no chat message to key a call by.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taskchat.db.engine import user_transaction
from taskchat.db.tables import CHAT_TOOL_CALLS
from taskchat.errors import TaskchatError

_t = CHAT_TOOL_CALLS.c

FOREIGN_KEY_VIOLATION = "23503"

GONE_MESSAGE = (
    "The message being answered was removed meanwhile (its conversation was retried or "
    "deleted elsewhere), so nothing was done."
)


class MessageGoneError(TaskchatError):
    """The user message a turn answers no longer exists: its calls are not made."""

    def __init__(self) -> None:
        super().__init__(GONE_MESSAGE)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a call came to."""

    text: str
    """What the tool answered the model."""
    detail: dict[str, Any]
    """What else the tool needs to show the result again (JSON)."""
    repeated: bool = False
    """True when an earlier turn answering the same message made this call: nothing was
    done now, and this is that turn's result."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """A call made while answering a message, as kept."""

    tool: str
    arguments: dict[str, Any]
    text: str


Act = Callable[[AsyncConnection], Awaitable[Outcome]]
"""A call's change, made in the transaction it is given (which records it too)."""


def call_key(tool: str, arguments: Mapping[str, Any]) -> str:
    """The tool and its arguments, canonically: equal for equal calls."""
    canonical = json.dumps(
        [tool, arguments], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(slots=True)
class TurnCalls:
    """One turn's side-effecting calls, for the user message it answers."""

    engine: AsyncEngine
    user_id: str
    thread_id: str
    message_id: str
    _made: Counter[str] = field(default_factory=Counter)
    """How many times this turn made each call (by key), so far."""

    async def once(self, tool: str, arguments: Mapping[str, Any], act: Act) -> Outcome:
        """Make the call with `act`, unless an earlier turn answering the same message
        made it (this many times): then its result, with nothing done."""
        key = call_key(tool, arguments)
        # Counted before any wait: calls running side by side each get their own place.
        self._made[key] += 1
        occurrence = self._made[key]
        where = (
            _t.user_id == self.user_id,
            _t.thread_id == self.thread_id,
            _t.message_id == self.message_id,
            _t.call_key == key,
            _t.occurrence == occurrence,
        )
        try:
            async with user_transaction(self.engine, self.user_id, locked=True) as conn:
                row = (await conn.execute(select(_t.result, _t.detail).where(*where))).first()
                if row is not None:
                    return Outcome(text=row.result, detail=dict(row.detail), repeated=True)
                outcome = await act(conn)
                await conn.execute(
                    insert(CHAT_TOOL_CALLS).values(
                        user_id=self.user_id,
                        thread_id=self.thread_id,
                        message_id=self.message_id,
                        call_key=key,
                        occurrence=occurrence,
                        tool=tool,
                        arguments=dict(arguments),
                        result=outcome.text,
                        detail=outcome.detail,
                        created_at=func.now(),
                    )
                )
                return outcome
        except IntegrityError as error:
            if getattr(error.orig, "sqlstate", None) != FOREIGN_KEY_VIOLATION:
                raise
            # The only foreign key is the message's; the change was rolled back with it.
            raise MessageGoneError from error

    async def remember(self, tool: str, arguments: Mapping[str, Any], text: str) -> None:
        """Keep a call made elsewhere (another MCP server's, which cannot be made once
        from here) for a retry's note; the first record of it stays, and a message that
        is gone keeps nothing."""
        key = call_key(tool, arguments)
        self._made[key] += 1
        try:
            async with user_transaction(self.engine, self.user_id) as conn:
                await conn.execute(
                    pg_insert(CHAT_TOOL_CALLS)
                    .values(
                        user_id=self.user_id,
                        thread_id=self.thread_id,
                        message_id=self.message_id,
                        call_key=key,
                        occurrence=self._made[key],
                        tool=tool,
                        arguments=dict(arguments),
                        result=text,
                        detail={},
                        created_at=func.now(),
                    )
                    .on_conflict_do_nothing()
                )
        except IntegrityError as error:
            if getattr(error.orig, "sqlstate", None) != FOREIGN_KEY_VIOLATION:
                raise


async def recorded_calls(
    *, engine: AsyncEngine, user_id: str, thread_id: str, message_id: str
) -> list[Recorded]:
    """The calls made so far while answering the message, oldest first."""
    async with user_transaction(engine, user_id) as conn:
        rows = (
            await conn.execute(
                select(_t.tool, _t.arguments, _t.result)
                .where(
                    _t.user_id == user_id,
                    _t.thread_id == thread_id,
                    _t.message_id == message_id,
                )
                .order_by(_t.seq)
            )
        ).all()
    return [Recorded(tool=row.tool, arguments=dict(row.arguments), text=row.result) for row in rows]


__all__ = [
    "GONE_MESSAGE",
    "Act",
    "MessageGoneError",
    "Outcome",
    "Recorded",
    "TurnCalls",
    "call_key",
    "recorded_calls",
]
