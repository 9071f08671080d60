"""chat/feedback/votes.py against the real database: one vote per user and answer, refusals that
keep nothing, and row-level security on the votes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import asyncpg
import pytest
from chatkit.types import HiddenContextItem, ThreadItem, ThreadMetadata, WidgetItem
from chatkit.widgets import Card, Text

from taskchat.chat.feedback.votes import Kind, record_feedback, thread_feedback
from taskchat.chat.store.postgres import PostgresStore, chat_id
from taskchat.context import RequestContext
from taskchat.db.engine import operator_transaction_raw, user_transaction_raw
from taskchat.errors import ProblemError, ResourceNotFoundError
from tests.support.threads import BASE, assistant_message, make_thread, user_message


async def conversation(
    store: PostgresStore, context: RequestContext
) -> tuple[ThreadMetadata, list[ThreadItem]]:
    """A stored thread: a question, its answer, a widget shown with it, hidden context."""
    thread = make_thread()
    await store.save_thread(thread, context)
    items: list[ThreadItem] = [
        user_message(thread.id, "What is due?", BASE),
        assistant_message(thread.id, "Nothing is due.", BASE + timedelta(seconds=1)),
        WidgetItem(
            id=chat_id("message"),
            thread_id=thread.id,
            created_at=BASE + timedelta(seconds=2),
            widget=Card(children=[Text(value="No tasks")]),
        ),
        HiddenContextItem(
            id=chat_id("message"),
            thread_id=thread.id,
            created_at=BASE + timedelta(seconds=3),
            content="the person pressed Done",
        ),
    ]
    for item in items:
        await store.add_thread_item(thread.id, item, context)
    return thread, items


async def stored(store: PostgresStore, user_id: str) -> list[tuple[str, str, bool]]:
    """The user's vote rows: (item, kind, whether it changed since it was first given)."""
    async with user_transaction_raw(store.engine, user_id) as conn:
        rows = await conn.fetch(
            "SELECT item_id, kind, updated_at > created_at AS changed FROM chat_feedback "
            "WHERE user_id = $1 ORDER BY item_id",
            user_id,
        )
    return [(row["item_id"], row["kind"], row["changed"]) for row in rows]


async def test_a_second_click_changes_the_vote_and_the_same_click_changes_nothing(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    alice = ctx()
    thread, items = await conversation(store, alice)
    answer = items[1].id

    async def vote(kind: Kind) -> int:
        return await record_feedback(
            engine=store.engine,
            user_id=alice.user_id,
            thread_id=thread.id,
            item_ids=[answer],
            kind=kind,
        )

    assert await vote("negative") == 1
    assert await stored(store, alice.user_id) == [(answer, "negative", False)]
    assert await vote("positive") == 1
    assert await stored(store, alice.user_id) == [(answer, "positive", True)]
    assert await vote("positive") == 0
    assert await stored(store, alice.user_id) == [(answer, "positive", True)]
    votes = await thread_feedback(engine=store.engine, user_id=alice.user_id, thread_id=thread.id)
    assert [(v.item_id, v.kind) for v in votes] == [(answer, "positive")]


async def test_parts_of_an_answer_are_accepted_beside_it_and_not_kept(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    # ChatKit.js may name every item of the response: the widget comes along.
    alice = ctx()
    thread, items = await conversation(store, alice)
    widget, answer = items[2].id, items[1].id
    changed = await record_feedback(
        engine=store.engine,
        user_id=alice.user_id,
        thread_id=thread.id,
        item_ids=[widget, answer],
        kind="negative",
    )
    assert changed == 1
    assert await stored(store, alice.user_id) == [(answer, "negative", False)]
    with pytest.raises(ProblemError, match="none of the items named is one") as refused:
        await record_feedback(
            engine=store.engine,
            user_id=alice.user_id,
            thread_id=thread.id,
            item_ids=[widget],
            kind="positive",
        )
    assert refused.value.status == 400


@pytest.mark.parametrize(("index", "named"), [(0, "user message"), (3, "hidden context item")])
async def test_only_answers_take_feedback_and_a_refusal_keeps_nothing(
    store: PostgresStore, ctx: Callable[[], RequestContext], index: int, named: str
) -> None:
    alice = ctx()
    thread, items = await conversation(store, alice)
    with pytest.raises(ProblemError, match=f"item {items[index].id} is a {named}") as refused:
        await record_feedback(
            engine=store.engine,
            user_id=alice.user_id,
            thread_id=thread.id,
            item_ids=[items[1].id, items[index].id],
            kind="positive",
        )
    assert refused.value.status == 400 and refused.value.code == "invalid_request"
    assert await stored(store, alice.user_id) == []


async def test_a_missing_item_refuses_the_whole_request(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    alice = ctx()
    thread, items = await conversation(store, alice)
    missing = chat_id("message")
    with pytest.raises(ResourceNotFoundError, match=f"Item {missing} not found in thread"):
        await record_feedback(
            engine=store.engine,
            user_id=alice.user_id,
            thread_id=thread.id,
            item_ids=[items[1].id, missing],
            kind="positive",
        )
    assert await stored(store, alice.user_id) == []


async def test_another_users_or_another_threads_answer_is_missing(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    alice, mallory = ctx(), ctx()
    alices, items = await conversation(store, alice)
    other, _ = await conversation(store, alice)
    mallorys, _ = await conversation(store, mallory)
    for user, thread in ((mallory, mallorys), (alice, other)):
        with pytest.raises(ResourceNotFoundError, match=f"Item {items[1].id} not found"):
            await record_feedback(
                engine=store.engine,
                user_id=user.user_id,
                thread_id=thread.id,
                item_ids=[items[1].id],
                kind="negative",
            )
    assert await stored(store, alice.user_id) == []
    assert await stored(store, mallory.user_id) == []
    with pytest.raises(ResourceNotFoundError, match=f"Thread {alices.id} not found"):
        await thread_feedback(engine=store.engine, user_id=mallory.user_id, thread_id=alices.id)


async def test_votes_go_with_their_answer_and_their_thread(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    alice = ctx()
    first, items = await conversation(store, alice)
    second, others = await conversation(store, alice)
    for thread, answer in ((first, items[1].id), (second, others[1].id)):
        await record_feedback(
            engine=store.engine,
            user_id=alice.user_id,
            thread_id=thread.id,
            item_ids=[answer],
            kind="positive",
        )
    # A retry removes the answer it replaces; deleting a thread removes its items.
    await store.delete_thread_item(first.id, items[1].id, alice)
    assert [item for item, _, _ in await stored(store, alice.user_id)] == [others[1].id]
    await store.delete_thread(second.id, alice)
    assert await stored(store, alice.user_id) == []


async def test_row_level_security_keeps_votes_to_their_owner_and_operators_read_only(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    alice, bob = ctx(), ctx()
    for user in (alice, bob):
        thread, items = await conversation(store, user)
        await record_feedback(
            engine=store.engine,
            user_id=user.user_id,
            thread_id=thread.id,
            item_ids=[items[1].id],
            kind="negative",
        )
    # A thread nobody voted in stays closed to operators.
    unvoted, _ = await conversation(store, alice)
    owners = {alice.user_id, bob.user_id}
    async with user_transaction_raw(store.engine, alice.user_id) as conn:
        seen = {row["user_id"] for row in await conn.fetch("SELECT user_id FROM chat_feedback")}
    assert seen == {alice.user_id}
    # Without the operator setting (any request), no other user's row either.
    async with user_transaction_raw(store.engine, "nobody") as conn:
        assert await conn.fetchval("SELECT count(*) FROM chat_feedback") == 0
    async with operator_transaction_raw(store.engine) as conn:
        seen = {row["user_id"] for row in await conn.fetch("SELECT user_id FROM chat_feedback")}
        answers = await conn.fetchval(
            "SELECT count(*) FROM chat_items WHERE user_id = ANY($1::text[])", list(owners)
        )
        unvoted_items = await conn.fetchval(
            "SELECT count(*) FROM chat_items WHERE user_id = $1 AND thread_id = $2",
            alice.user_id,
            unvoted.id,
        )
    assert owners <= seen
    assert answers == 8  # the voted threads' items
    assert unvoted_items == 0
    # The operator policies only read: an operator transaction changes nothing.
    async with operator_transaction_raw(store.engine) as conn:
        deleted = await conn.execute(
            "DELETE FROM chat_feedback WHERE user_id = ANY($1::text[])", list(owners)
        )
    assert deleted == "DELETE 0"
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with operator_transaction_raw(store.engine) as conn:
            await conn.execute(
                "INSERT INTO chat_feedback VALUES ($1, 'thr_x', 'msg_x', 'positive', now(), now())",
                alice.user_id,
            )
    assert len(await stored(store, alice.user_id)) == 1


async def test_an_answer_named_twice_is_one_vote(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    alice = ctx()
    thread, items = await conversation(store, alice)
    changed = await record_feedback(
        engine=store.engine,
        user_id=alice.user_id,
        thread_id=thread.id,
        item_ids=[items[1].id, items[1].id],
        kind="positive",
    )
    assert changed == 1
    assert await stored(store, alice.user_id) == [(items[1].id, "positive", False)]
