"""PreloadedHistoryStore: the SDK's first look at the thread from memory, everything else
from the real store."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from chatkit.store import NotFoundError
from chatkit.types import FileAttachment, ThreadItem, ThreadMetadata

from taskchat.chat.preloaded import PreloadedHistoryStore
from taskchat.chat.store import PostgresStore, chat_id
from taskchat.context import RequestContext
from tests.support.threads import BASE, make_thread, thread_with_items, user_message


async def preloaded_thread(
    store: PostgresStore, context: RequestContext, count: int
) -> tuple[ThreadMetadata, list[ThreadItem], PreloadedHistoryStore]:
    """A thread of `count` messages, and the wrapper over its newest (up to 10) items."""
    thread, items = await thread_with_items(store, context, count)
    recent = await store.load_thread_items(thread.id, None, 10, "desc", context)
    return thread, items, PreloadedHistoryStore(store, thread.id, recent)


async def test_first_newest_items_read_matches_the_store_then_delegates(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    thread, _ = await thread_with_items(store, context, 5)
    recent = await store.load_thread_items(thread.id, None, 3, "desc", context)
    for limit in (2, 3):
        preloaded = PreloadedHistoryStore(store, thread.id, recent)
        assert await preloaded.load_thread_items(
            thread.id, None, limit, "desc", context
        ) == await store.load_thread_items(thread.id, None, limit, "desc", context)
    # More than was loaded, while more exist: the real store answers.
    preloaded = PreloadedHistoryStore(store, thread.id, recent)
    wide = await preloaded.load_thread_items(thread.id, None, 5, "desc", context)
    assert len(wide.data) == 5


async def test_the_preloaded_page_is_served_once(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    thread, items, preloaded = await preloaded_thread(store, context, 2)
    first = await preloaded.load_thread_items(thread.id, None, 10, "desc", context)
    assert [item.id for item in first.data] == [items[1].id, items[0].id]
    # Written behind the wrapper's back: only a second read from the store can see it.
    newer = user_message(thread.id, "behind its back", BASE + timedelta(hours=1))
    await store.add_thread_item(thread.id, newer, context)
    again = await preloaded.load_thread_items(thread.id, None, 10, "desc", context)
    assert again.data[0].id == newer.id


async def test_after_a_write_the_shortcut_is_gone(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    thread, _, preloaded = await preloaded_thread(store, context, 2)
    newer = user_message(thread.id, "newer", BASE + timedelta(hours=1))
    await preloaded.add_thread_item(thread.id, newer, context)
    page = await preloaded.load_thread_items(thread.id, None, 2, "desc", context)
    assert page.data[0].id == newer.id
    assert await store.load_item(thread.id, newer.id, context) == newer


async def test_other_reads_and_writes_reach_the_real_store(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    thread, items, preloaded = await preloaded_thread(store, context, 2)

    assert re.fullmatch(r"thr_[0-9a-f]{24}", preloaded.generate_thread_id(context))
    assert re.fullmatch(r"msg_[0-9a-f]{24}", preloaded.generate_item_id("message", thread, context))

    thread.title = "Renamed through the wrapper"
    await preloaded.save_thread(thread, context)
    assert (await store.load_thread(thread.id, context)).title == "Renamed through the wrapper"
    assert (await preloaded.load_thread(thread.id, context)).title == "Renamed through the wrapper"
    other = make_thread("second")
    await store.save_thread(other, context)
    listed = await preloaded.load_threads(10, None, "asc", context)
    assert {t.id for t in listed.data} == {thread.id, other.id}

    changed = items[0].model_copy(update={"quoted_text": "edited"})
    await preloaded.save_item(thread.id, changed, context)
    assert await store.load_item(thread.id, items[0].id, context) == changed
    assert await preloaded.load_item(thread.id, items[0].id, context) == changed
    await preloaded.delete_thread_item(thread.id, items[1].id, context)
    with pytest.raises(NotFoundError):
        await store.load_item(thread.id, items[1].id, context)

    attachment = FileAttachment(id=chat_id("attachment"), name="a.txt", mime_type="text/plain")
    await preloaded.save_attachment(attachment, context)
    assert await store.load_attachment(attachment.id, context) == attachment
    assert await preloaded.load_attachment(attachment.id, context) == attachment
    await preloaded.delete_attachment(attachment.id, context)
    with pytest.raises(NotFoundError):
        await store.load_attachment(attachment.id, context)

    await preloaded.delete_thread(other.id, context)
    with pytest.raises(NotFoundError):
        await store.load_thread(other.id, context)
