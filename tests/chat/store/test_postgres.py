"""PostgresStore against the real database."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from chatkit.store import NotFoundError
from chatkit.types import (
    FileAttachment,
    ThreadItem,
    ThreadMetadata,
    Workflow,
    WorkflowItem,
)
from sqlalchemy import text

from taskchat.chat.store.postgres import PostgresStore, chat_id
from taskchat.context import RequestContext
from taskchat.db.engine import SCOPED_ROW, pooled_driver, user_transaction
from taskchat.files.storage import AttachmentGoneError, AttachmentSentError
from tests.support.threads import (
    BASE,
    assistant_message,
    make_thread,
    thread_with_items,
    user_message,
)


async def test_thread_round_trips_exactly(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    thread = make_thread("Groceries")
    await store.save_thread(thread, context)
    assert await store.load_thread(thread.id, context) == thread


async def test_save_thread_renames_an_existing_thread(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    thread = make_thread("Old")
    await store.save_thread(thread, context)
    await store.save_thread(thread.model_copy(update={"title": "New"}), context)
    loaded = await store.load_thread(thread.id, context)
    assert loaded.title == "New"
    page = await store.load_threads(10, None, "asc", context)
    assert [t.id for t in page.data] == [thread.id]


async def test_a_title_is_set_only_where_there_is_none_and_only_by_the_owner(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    owner, other = ctx(), ctx()
    untitled, named = make_thread(None), make_thread("Named by its owner")
    for thread in (untitled, named):
        await store.save_thread(thread, owner)

    # Someone else cannot title it, even naming its id.
    assert await store.set_title_if_unset(untitled.id, "Hijacked", other) is None
    titled = await store.set_title_if_unset(untitled.id, "Weekly groceries", owner)
    assert titled is not None and titled.title == "Weekly groceries"
    assert titled.model_dump(exclude={"title"}) == untitled.model_dump(exclude={"title"})
    assert (await store.load_thread(untitled.id, owner)).title == "Weekly groceries"
    # A thread with a title keeps it; a missing one is no error.
    assert await store.set_title_if_unset(untitled.id, "Second try", owner) is None
    assert await store.set_title_if_unset(named.id, "Generated", owner) is None
    assert (await store.load_thread(named.id, owner)).title == "Named by its owner"
    assert await store.set_title_if_unset(chat_id("thread"), "Nowhere", owner) is None


async def test_items_round_trip_exactly(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    thread = make_thread()
    await store.save_thread(thread, context)
    items: list[ThreadItem] = [
        user_message(thread.id, "hello ✓ اردو"),
        assistant_message(thread.id, "hi", BASE + timedelta(seconds=1)),
        WorkflowItem(
            id=chat_id("workflow"),
            thread_id=thread.id,
            created_at=BASE + timedelta(seconds=2),
            workflow=Workflow(type="custom", tasks=[]),
        ),
    ]
    for item in items:
        await store.add_thread_item(thread.id, item, context)
    for item in items:
        assert await store.load_item(thread.id, item.id, context) == item
    page = await store.load_thread_items(thread.id, None, 10, "asc", context)
    assert page.data == items


async def test_add_thread_item_is_an_upsert(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    thread, _ = await thread_with_items(store, context, 1)
    workflow = WorkflowItem(
        id=chat_id("workflow"),
        thread_id=thread.id,
        created_at=BASE + timedelta(seconds=5),
        workflow=Workflow(type="custom", tasks=[]),
    )
    await store.add_thread_item(thread.id, workflow, context)
    closed = workflow.model_copy(
        update={"workflow": Workflow(type="custom", tasks=[], expanded=True)}
    )
    await store.add_thread_item(thread.id, closed, context)
    page = await store.load_thread_items(thread.id, None, 10, "asc", context)
    assert len(page.data) == 2
    assert page.data[-1] == closed


async def test_save_item_updates_in_place(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    thread, items = await thread_with_items(store, context, 3)
    changed = assistant_message(thread.id, "x").model_copy(
        update={"id": items[1].id, "created_at": items[1].created_at}
    )
    await store.save_item(thread.id, changed, context)
    page = await store.load_thread_items(thread.id, None, 10, "asc", context)
    assert [item.id for item in page.data] == [item.id for item in items]
    assert page.data[1] == changed


async def test_delete_thread_item(store: PostgresStore, ctx: Callable[[], RequestContext]) -> None:
    context = ctx()
    thread, items = await thread_with_items(store, context, 2)
    await store.delete_thread_item(thread.id, items[0].id, context)
    with pytest.raises(NotFoundError):
        await store.load_item(thread.id, items[0].id, context)
    page = await store.load_thread_items(thread.id, None, 10, "asc", context)
    assert [item.id for item in page.data] == [items[1].id]


async def test_delete_thread_removes_items_and_attachments(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    thread, items = await thread_with_items(store, context, 2)
    attachment = FileAttachment(id=chat_id("attachment"), name="a.txt", mime_type="text/plain")
    loose = FileAttachment(id=chat_id("attachment"), name="b.txt", mime_type="text/plain")
    await store.save_attachment(attachment, context)
    await store.save_attachment(loose, context)
    # Sent in the thread, as a message's send marks it.
    await store.save_attachment(attachment.model_copy(update={"thread_id": thread.id}), context)
    await store.delete_thread(thread.id, context)
    with pytest.raises(NotFoundError):
        await store.load_thread(thread.id, context)
    with pytest.raises(NotFoundError):
        await store.load_item(thread.id, items[0].id, context)
    with pytest.raises(NotFoundError):
        await store.load_attachment(attachment.id, context)
    assert await store.load_attachment(loose.id, context) == loose
    async with user_transaction(store.engine, context.user_id) as conn:
        left = await conn.scalar(
            text("SELECT count(*) FROM chat_items WHERE thread_id = :t"), {"t": thread.id}
        )
    assert left == 0  # the items went with the thread
    with pytest.raises(NotFoundError):
        await store.delete_thread(thread.id, context)


async def test_attachments_round_trip_and_delete(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    attachment = FileAttachment(
        id=chat_id("attachment"), name="notes.md", mime_type="text/markdown", metadata={"a": 1}
    )
    await store.save_attachment(attachment, context)
    assert await store.load_attachment(attachment.id, context) == attachment
    await store.delete_attachment(attachment.id, context)
    with pytest.raises(NotFoundError):
        await store.load_attachment(attachment.id, context)


@pytest.mark.parametrize("same_time", [False, True], ids=["distinct-times", "equal-times"])
@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_item_pagination_walks_every_item_once(
    store: PostgresStore, ctx: Callable[[], RequestContext], order: str, same_time: bool
) -> None:
    context = ctx()
    thread, items = await thread_with_items(store, context, 7, same_time=same_time)
    expected = [item.id for item in (items if order == "asc" else list(reversed(items)))]
    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        page = await store.load_thread_items(thread.id, after, 3, order, context)
        pages += 1
        seen.extend(item.id for item in page.data)
        if not page.has_more:
            assert page.after is None  # the SDK's store contract: no cursor on the last page
            break
        assert page.after == page.data[-1].id
        after = page.after
    assert seen == expected
    assert pages == math.ceil(7 / 3)


async def test_item_pagination_cursors_at_both_ends(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    thread, items = await thread_with_items(store, context, 4)
    last_asc = await store.load_thread_items(thread.id, items[-1].id, 10, "asc", context)
    assert last_asc.data == [] and not last_asc.has_more
    first_desc = await store.load_thread_items(thread.id, items[0].id, 10, "desc", context)
    assert first_desc.data == [] and not first_desc.has_more
    from_first = await store.load_thread_items(thread.id, items[0].id, 10, "asc", context)
    assert [i.id for i in from_first.data] == [i.id for i in items[1:]]
    from_last = await store.load_thread_items(thread.id, items[-1].id, 2, "desc", context)
    assert [i.id for i in from_last.data] == [items[2].id, items[1].id]
    assert from_last.has_more


async def test_thread_pagination_in_both_orders(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    threads = [make_thread(f"t{i}", BASE + timedelta(minutes=i)) for i in range(5)]
    for thread in threads:
        await store.save_thread(thread, context)
    first = await store.load_threads(2, None, "desc", context)
    assert [t.id for t in first.data] == [threads[4].id, threads[3].id] and first.has_more
    rest = await store.load_threads(10, first.after, "desc", context)
    assert [t.id for t in rest.data] == [t.id for t in reversed(threads[:3])]
    assert not rest.has_more and rest.after is None
    asc = await store.load_threads(10, threads[1].id, "asc", context)
    assert [t.id for t in asc.data] == [t.id for t in threads[2:]]
    end = await store.load_threads(10, threads[4].id, "asc", context)
    assert end.data == [] and not end.has_more


async def test_another_users_data_is_indistinguishable_from_missing(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    alice, mallory = ctx(), ctx()
    thread, items = await thread_with_items(store, alice, 2)
    attachment = FileAttachment(id=chat_id("attachment"), name="a", mime_type="text/plain")
    await store.save_attachment(attachment, alice)

    for target in (thread.id, "thr_missing"):
        with pytest.raises(NotFoundError):
            await store.load_thread(target, mallory)
        with pytest.raises(NotFoundError):
            await store.delete_thread(target, mallory)
        with pytest.raises(NotFoundError):
            await store.add_thread_item(target, user_message(target, "x"), mallory)
        page = await store.load_thread_items(target, None, 10, "asc", mallory)
        assert page.data == [] and not page.has_more
    with pytest.raises(NotFoundError):
        await store.load_item(thread.id, items[0].id, mallory)
    with pytest.raises(NotFoundError):
        await store.load_attachment(attachment.id, mallory)
    assert (await store.load_threads(10, None, "asc", mallory)).data == []

    # Writes aimed at alice's ids land in mallory's own namespace, never in alice's.
    await store.save_thread(thread.model_copy(update={"title": "pwned"}), mallory)
    await store.delete_thread_item(thread.id, items[0].id, mallory)
    await store.delete_attachment(attachment.id, mallory)
    assert (await store.load_thread(thread.id, alice)).title is None
    assert await store.load_item(thread.id, items[0].id, alice) == items[0]
    assert await store.load_attachment(attachment.id, alice) == attachment


async def test_row_level_security_hides_other_users_rows_without_a_where(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    alice, bob = ctx(), ctx()
    await thread_with_items(store, alice, 1)
    await thread_with_items(store, bob, 1)
    async with user_transaction(store.engine, alice.user_id) as conn:
        owners = set((await conn.execute(text("SELECT user_id FROM chat_threads"))).scalars())
        item_owners = set((await conn.execute(text("SELECT user_id FROM chat_items"))).scalars())
    assert owners == {alice.user_id}
    assert item_owners == {alice.user_id}
    with pytest.raises(Exception, match="row-level security"):
        async with user_transaction(store.engine, alice.user_id) as conn:
            await conn.execute(
                text(
                    "INSERT INTO chat_threads (user_id, id, created_at, data) "
                    "VALUES (:u, 'thr_x', now(), '{}')"
                ),
                {"u": bob.user_id},
            )


async def test_generated_ids_carry_at_least_64_random_bits(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    thread = make_thread()
    thread_id = store.generate_thread_id(context)
    item_id = store.generate_item_id("message", thread, context)
    assert re.fullmatch(r"thr_[0-9a-f]{24}", thread_id)
    assert re.fullmatch(r"msg_[0-9a-f]{24}", item_id)
    assert len({store.generate_thread_id(context) for _ in range(1000)}) == 1000


async def test_from_url_builds_a_working_store(
    database_url: str, ctx: Callable[[], RequestContext]
) -> None:
    standalone = PostgresStore.from_url(database_url)
    try:
        context = ctx()
        thread = make_thread("standalone")
        await standalone.save_thread(thread, context)
        assert (await standalone.load_thread(thread.id, context)).title == "standalone"
    finally:
        await standalone.engine.dispose()


async def test_a_cursor_that_is_gone_is_not_found_rather_than_the_end(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    thread, items = await thread_with_items(store, context, 3)
    await store.delete_thread_item(thread.id, items[0].id, context)
    with pytest.raises(NotFoundError):
        await store.load_thread_items(thread.id, items[0].id, 10, "asc", context)
    with pytest.raises(NotFoundError):
        await store.load_threads(10, "thr_gone", "desc", context)


async def test_naive_timestamps_are_read_as_local_time(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    naive = datetime.now()  # noqa: DTZ005 - what the SDK does
    thread = ThreadMetadata(id=chat_id("thread"), created_at=naive)
    await store.save_thread(thread, context)
    async with user_transaction(store.engine, context.user_id) as conn:
        stored = await conn.scalar(
            text("SELECT created_at FROM chat_threads WHERE id = :id"), {"id": thread.id}
        )
    assert stored == naive.astimezone()
    assert (await store.load_thread(thread.id, context)).created_at == naive


async def test_one_statement_writes_are_checked_by_row_level_security(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    alice, bob = ctx(), ctx()
    async with pooled_driver(store.engine) as conn:
        await conn.execute(
            "INSERT INTO chat_threads (user_id, id, created_at, data) "
            f"SELECT $1::text, 'thr_scoped', now(), '{{}}'::jsonb FROM {SCOPED_ROW}",
            alice.user_id,
        )
        with pytest.raises(Exception, match="row-level security"):
            await conn.execute(
                "INSERT INTO chat_threads (user_id, id, created_at, data) "
                f"SELECT $2::text, 'thr_forged', now(), '{{}}'::jsonb FROM {SCOPED_ROW}",
                alice.user_id,
                bob.user_id,
            )
        # The setting ended with its statement: nothing is visible without one.
        assert await conn.fetchval("SELECT count(*) FROM chat_threads") == 0
    async with user_transaction(store.engine, alice.user_id) as conn2:
        found = await conn2.scalar(text("SELECT id FROM chat_threads WHERE id = 'thr_scoped'"))
    assert found == "thr_scoped"


async def test_an_empty_cursor_means_from_the_start(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    thread, items = await thread_with_items(store, context, 2)
    page = await store.load_thread_items(thread.id, "", 10, "asc", context)
    assert [i.id for i in page.data] == [i.id for i in items]
    assert [t.id for t in (await store.load_threads(10, "", "asc", context)).data] == [thread.id]


async def test_an_attachment_is_sent_in_one_thread_only_and_never_unsent(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    first, second = make_thread("first"), make_thread("second")
    for thread in (first, second):
        await store.save_thread(thread, context)
    unsent = FileAttachment(id=chat_id("attachment"), name="a.txt", mime_type="text/plain")
    other = FileAttachment(id=chat_id("attachment"), name="b.txt", mime_type="text/plain")
    await store.save_attachment(unsent, context)
    await store.save_attachment(other, context)
    await store.claim_attachments(first.id, [unsent.id], context)
    # Claimed again for its own thread (the SDK stores it once more): nothing changes.
    await store.save_attachment(unsent.model_copy(update={"thread_id": first.id}), context)
    # Another thread's claim fails whole: the other file stays unsent.
    with pytest.raises(AttachmentSentError, match=r"a\.txt was already sent"):
        await store.claim_attachments(second.id, [other.id, unsent.id], context)
    with pytest.raises(AttachmentSentError):
        await store.save_attachment(unsent.model_copy(update={"thread_id": second.id}), context)
    # Neither a stale unsent copy nor attachments.delete takes it back from its thread.
    with pytest.raises(AttachmentSentError):
        await store.save_attachment(unsent, context)
    await store.delete_attachment(unsent.id, context)
    assert (await store.load_attachment(unsent.id, context)).thread_id == first.id
    assert (await store.load_attachment(other.id, context)).thread_id is None
    # Gone, it is not made again by a send.
    await store.delete_attachment(other.id, context)
    with pytest.raises(AttachmentGoneError):
        await store.claim_attachments(second.id, [other.id], context)
    with pytest.raises(NotFoundError):
        await store.load_attachment(other.id, context)
