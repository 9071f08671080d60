"""The record of side-effecting calls (tools/ledger.py) on the real database: a call is made
once per place among identical calls for a message, also by two turns at once; a call
that fails is not kept; a message that is gone makes nothing; one user's record is
invisible to another."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from taskchat.chat.store.postgres import PostgresStore
from taskchat.context import RequestContext
from taskchat.db.engine import user_transaction
from taskchat.errors import TaskchatError
from taskchat.tools.ledger import MessageGoneError, Outcome, TurnCalls, call_key, recorded_calls
from tests.support.threads import make_thread, user_message


async def stored_message(store: PostgresStore, context: RequestContext) -> tuple[str, str]:
    thread = make_thread()
    await store.save_thread(thread, context)
    message = user_message(thread.id, "add milk")
    await store.add_thread_item(thread.id, message, context)
    return thread.id, message.id


class Acts:
    """A call's change that counts how often it was made, and takes a while."""

    def __init__(self, delay: float = 0.0) -> None:
        self.made = 0
        self.delay = delay

    async def __call__(self, conn: AsyncConnection) -> Outcome:
        self.made += 1
        made = self.made
        # Something written in the call's transaction, as a tool's change is.
        await conn.execute(text("SELECT 1"))
        await asyncio.sleep(self.delay)
        return Outcome(f"Added #{made}", {"made": made})


def test_equal_calls_have_one_key_and_different_ones_another() -> None:
    assert call_key("add_task", {"title": "Milk", "notes": ""}) == call_key(
        "add_task", {"notes": "", "title": "Milk"}
    )
    assert call_key("add_task", {"title": "Milk"}) != call_key("add_task", {"title": "Eggs"})
    assert call_key("add_task", {"task_id": "t"}) != call_key("delete_task", {"task_id": "t"})


async def test_a_later_turn_for_the_same_message_gets_the_first_result(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    thread_id, message_id = await stored_message(store, context)
    act = Acts()
    first = TurnCalls(store.engine, context.user_id, thread_id, message_id)
    assert await first.once("add_task", {"title": "Milk"}, act) == Outcome("Added #1", {"made": 1})
    # A second identical call in the same turn is a second call.
    assert (await first.once("add_task", {"title": "Milk"}, act)).text == "Added #2"

    retried = TurnCalls(store.engine, context.user_id, thread_id, message_id)
    again = await retried.once("add_task", {"title": "Milk"}, act)
    assert again == Outcome("Added #1", {"made": 1}, repeated=True)
    assert (await retried.once("add_task", {"title": "Milk"}, act)).text == "Added #2"
    # A third is new, as is another call.
    assert not (await retried.once("add_task", {"title": "Milk"}, act)).repeated
    assert not (await retried.once("add_task", {"title": "Eggs"}, act)).repeated
    assert act.made == 4
    recorded = await recorded_calls(
        engine=store.engine, user_id=context.user_id, thread_id=thread_id, message_id=message_id
    )
    assert [(call.tool, call.arguments["title"], call.text) for call in recorded] == [
        ("add_task", "Milk", "Added #1"),
        ("add_task", "Milk", "Added #2"),
        ("add_task", "Milk", "Added #3"),
        ("add_task", "Eggs", "Added #4"),
    ]


async def test_two_retries_at_once_make_the_call_once(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    thread_id, message_id = await stored_message(store, context)
    act = Acts(delay=0.3)
    turns = [TurnCalls(store.engine, context.user_id, thread_id, message_id) for _ in range(2)]
    outcomes = await asyncio.gather(
        *(turn.once("add_task", {"title": "Milk"}, act) for turn in turns)
    )
    assert act.made == 1
    assert sorted(outcome.repeated for outcome in outcomes) == [False, True]
    assert {outcome.text for outcome in outcomes} == {"Added #1"}


async def test_a_call_that_fails_is_not_kept(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    thread_id, message_id = await stored_message(store, context)

    async def refused(conn: AsyncConnection) -> Outcome:
        raise TaskchatError("Task 'task_x' not found.")

    turn = TurnCalls(store.engine, context.user_id, thread_id, message_id)
    with pytest.raises(TaskchatError):
        await turn.once("delete_task", {"task_id": "task_x"}, refused)
    act = Acts()
    retried = TurnCalls(store.engine, context.user_id, thread_id, message_id)
    assert not (await retried.once("delete_task", {"task_id": "task_x"}, act)).repeated
    assert act.made == 1


async def test_a_message_that_is_gone_makes_nothing(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    thread_id, message_id = await stored_message(store, context)
    await store.delete_thread_item(thread_id, message_id, context)

    async def adds_a_row(conn: AsyncConnection) -> Outcome:
        await conn.execute(
            text(
                "INSERT INTO tasks (user_id, id, title, created_at, updated_at) "
                "VALUES (:user, 'task_gone_test', 'Milk', now(), now())"
            ),
            {"user": context.user_id},
        )
        return Outcome("Added", {})

    turn = TurnCalls(store.engine, context.user_id, thread_id, message_id)
    with pytest.raises(MessageGoneError):
        await turn.once("add_task", {"title": "Milk"}, adds_a_row)
    # The change went with the record it could not make.
    async with user_transaction(store.engine, context.user_id) as conn:
        assert await conn.scalar(text("SELECT count(*) FROM tasks")) == 0


async def test_one_users_record_is_invisible_to_another(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    owner, other = ctx(), ctx()
    thread_id, message_id = await stored_message(store, owner)
    await TurnCalls(store.engine, owner.user_id, thread_id, message_id).once(
        "add_task", {"title": "Milk"}, Acts()
    )
    # The same thread and message ids, for someone else: not theirs, so nothing is found,
    # and nothing can be recorded against the owner's message.
    assert (
        await recorded_calls(
            engine=store.engine, user_id=other.user_id, thread_id=thread_id, message_id=message_id
        )
        == []
    )
    act = Acts()
    with pytest.raises(MessageGoneError):
        await TurnCalls(store.engine, other.user_id, thread_id, message_id).once(
            "add_task", {"title": "Milk"}, act
        )
    async with user_transaction(store.engine, other.user_id) as conn:
        assert await conn.scalar(text("SELECT count(*) FROM chat_tool_calls")) == 0
