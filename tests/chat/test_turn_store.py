"""TurnStore answers the SDK's first look at the thread exactly like the real store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from taskchat.chat.context import RequestContext
from taskchat.chat.store import PostgresStore
from taskchat.chat.turn_store import TurnStore
from tests.chat.test_store import BASE, thread_with_items, user_message


async def test_first_newest_items_read_matches_the_store_then_delegates(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    thread, _ = await thread_with_items(store, context, 5)
    recent = await store.load_thread_items(thread.id, None, 3, "desc", context)
    turn = TurnStore(store, thread.id, recent)
    for limit in (2, 3):
        turn = TurnStore(store, thread.id, recent)
        assert await turn.load_thread_items(
            thread.id, None, limit, "desc", context
        ) == await store.load_thread_items(thread.id, None, limit, "desc", context)
    # More than was loaded, while more exist: the real store answers.
    turn = TurnStore(store, thread.id, recent)
    wide = await turn.load_thread_items(thread.id, None, 5, "desc", context)
    assert len(wide.data) == 5


async def test_after_a_write_the_shortcut_is_gone(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    thread, _ = await thread_with_items(store, context, 2)
    recent = await store.load_thread_items(thread.id, None, 10, "desc", context)
    turn = TurnStore(store, thread.id, recent)
    newer = user_message(thread.id, "newer", BASE + timedelta(hours=1))
    await turn.add_thread_item(thread.id, newer, context)
    page = await turn.load_thread_items(thread.id, None, 2, "desc", context)
    assert page.data[0].id == newer.id
    assert await store.load_item(thread.id, newer.id, context) == newer
