"""The sweep of attachments never sent: old ones go with their files, for every user;
sent ones and new ones stay; several processes sweeping at once do no harm."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from chatkit.types import FileAttachment

from taskchat.chat.store.postgres import PostgresStore, chat_id
from taskchat.context import RequestContext
from taskchat.db.engine import operator_transaction_raw, user_transaction_raw
from taskchat.files.postgres import PostgresFileStorage
from taskchat.files.sweep import run_sweeps, sweep_unsent
from tests.support.threads import make_thread


async def attachment(
    store: PostgresStore,
    context: RequestContext,
    *,
    age: timedelta = timedelta(0),
    thread_id: str | None = None,
) -> str:
    """An attachment with a file, made `age` ago, sent in `thread_id` if given."""
    made = FileAttachment(
        id=chat_id("attachment"), name="a.txt", mime_type="text/plain", thread_id=thread_id
    )
    await store.save_attachment(made.model_copy(update={"thread_id": None}), context)
    async with user_transaction_raw(store.engine, context.user_id) as conn:
        await PostgresFileStorage(store.engine).save(
            conn, user_id=context.user_id, attachment_id=made.id, content=b"bytes", quota_bytes=0
        )
    if thread_id is not None:
        await store.claim_attachments(thread_id, [made.id], context)
    async with user_transaction_raw(store.engine, context.user_id) as conn:
        await conn.execute(
            "UPDATE chat_attachments SET created_at = now() - $3::interval "
            "WHERE user_id = $1 AND id = $2",
            context.user_id,
            made.id,
            age,
        )
    return made.id


async def remaining(store: PostgresStore, context: RequestContext) -> tuple[set[str], set[str]]:
    """The user's attachment ids, and the ids of their files."""
    async with user_transaction_raw(store.engine, context.user_id) as conn:
        rows = await conn.fetch(
            "SELECT id FROM chat_attachments WHERE user_id = $1", context.user_id
        )
        files = await conn.fetch(
            "SELECT id FROM chat_attachment_files WHERE user_id = $1", context.user_id
        )
    return {row["id"] for row in rows}, {row["id"] for row in files}


async def test_old_unsent_attachments_of_every_user_go_with_their_files(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    alice, bob = ctx(), ctx()
    thread = make_thread()
    await store.save_thread(thread, alice)
    old = await attachment(store, alice, age=timedelta(hours=25))
    fresh = await attachment(store, alice, age=timedelta(hours=23))
    sent = await attachment(store, alice, age=timedelta(days=30), thread_id=thread.id)
    bobs_old = await attachment(store, bob, age=timedelta(days=2))
    deleted = await sweep_unsent(store.engine)
    assert deleted is not None and deleted >= 2  # other tests' old rows may go too
    assert await remaining(store, alice) == ({fresh, sent}, {fresh, sent})
    assert await remaining(store, bob) == (set(), set())
    assert old and bobs_old  # both swept (above)


async def test_a_sweep_waits_its_turn_while_another_process_sweeps(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    old = await attachment(store, context, age=timedelta(days=2))
    async with operator_transaction_raw(store.engine) as other:
        # Another replica's sweep, holding the lock.
        assert await other.fetchval(
            "SELECT pg_try_advisory_xact_lock(hashtextextended('taskchat.attachment_sweep', 0))"
        )
        assert await sweep_unsent(store.engine) is None
        assert await remaining(store, context) == ({old}, {old})
    assert await sweep_unsent(store.engine) is not None
    assert await remaining(store, context) == (set(), set())


async def test_concurrent_sweeps_delete_each_attachment_once_without_errors(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    for _ in range(12):
        await attachment(store, context, age=timedelta(days=3))
    results = await asyncio.gather(*(sweep_unsent(store.engine) for _ in range(4)))
    assert sum(result or 0 for result in results) >= 12
    assert await remaining(store, context) == (set(), set())


async def test_the_periodic_sweep_runs_without_being_asked(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    await attachment(store, context, age=timedelta(days=2))
    sweeper = asyncio.create_task(run_sweeps(store.engine, interval=0.05, first=0))
    try:
        for _ in range(100):
            if await remaining(store, context) == (set(), set()):
                break
            await asyncio.sleep(0.05)
        assert await remaining(store, context) == (set(), set())
    finally:
        sweeper.cancel()


async def test_operator_work_can_delete_only_unsent_attachments(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    thread = make_thread()
    await store.save_thread(thread, context)
    sent = await attachment(store, context, thread_id=thread.id)
    unsent = await attachment(store, context)
    async with operator_transaction_raw(store.engine) as conn:
        # It sees both (the sweep reads every user's), but a sent one is not its to delete.
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM chat_attachments WHERE id = ANY($1::text[])", [sent, unsent]
            )
            == 2
        )
        deleted = await conn.fetch(
            "DELETE FROM chat_attachments WHERE id = ANY($1::text[]) RETURNING id", [sent, unsent]
        )
    assert [row["id"] for row in deleted] == [unsent]
    assert await remaining(store, context) == ({sent}, {sent})
