"""Attachment bytes in PostgreSQL: scoped to their user, and loaded for the model within a
budget, newest first."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from chatkit.types import FileAttachment

from taskchat.chat.store.postgres import PostgresStore, chat_id
from taskchat.context import RequestContext
from taskchat.db.engine import user_transaction_raw
from taskchat.files.postgres import PostgresFileStorage
from taskchat.files.storage import AttachmentGoneError, QuotaExceededError


@pytest.fixture
async def files(store: PostgresStore) -> AsyncIterator[PostgresFileStorage]:
    yield PostgresFileStorage(store.engine)


async def attachment(store: PostgresStore, context: RequestContext) -> str:
    made = FileAttachment(id=chat_id("attachment"), name="a.txt", mime_type="text/plain")
    await store.save_attachment(made, context)
    return made.id


async def save(
    files: PostgresFileStorage,
    *,
    user_id: str,
    attachment_id: str,
    content: bytes,
    quota_bytes: int,
) -> None:
    """`files.save` in a transaction of its own, as the upload makes one (locked for the quota)."""
    async with user_transaction_raw(files.engine, user_id, locked=bool(quota_bytes)) as conn:
        await files.save(
            conn,
            user_id=user_id,
            attachment_id=attachment_id,
            content=content,
            quota_bytes=quota_bytes,
        )


async def test_files_are_read_only_by_their_owner(
    store: PostgresStore, files: PostgresFileStorage, ctx: Callable[[], RequestContext]
) -> None:
    owner, other = ctx(), ctx()
    attachment_id = await attachment(store, owner)
    await save(
        files, user_id=owner.user_id, attachment_id=attachment_id, content=b"hi", quota_bytes=0
    )
    assert await files.load(user_id=owner.user_id, attachment_id=attachment_id) == b"hi"
    assert await files.load(user_id=other.user_id, attachment_id=attachment_id) is None
    # Another user cannot store bytes under someone else's attachment, nor delete them.
    with pytest.raises(AttachmentGoneError):
        await save(
            files, user_id=other.user_id, attachment_id=attachment_id, content=b"x", quota_bytes=0
        )
    await files.delete(user_id=other.user_id, attachment_id=attachment_id)
    assert await files.load(user_id=owner.user_id, attachment_id=attachment_id) == b"hi"
    assert await files.used_bytes(user_id=owner.user_id) == 2
    assert await files.used_bytes(user_id=other.user_id) == 0


async def test_replacing_a_file_counts_only_its_new_size_against_the_quota(
    store: PostgresStore, files: PostgresFileStorage, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    first, second = await attachment(store, context), await attachment(store, context)
    user = context.user_id
    await save(files, user_id=user, attachment_id=first, content=b"a" * 60, quota_bytes=100)
    await save(files, user_id=user, attachment_id=first, content=b"b" * 90, quota_bytes=100)
    with pytest.raises(QuotaExceededError):
        await save(files, user_id=user, attachment_id=second, content=b"c" * 11, quota_bytes=100)
    await save(files, user_id=user, attachment_id=second, content=b"c" * 10, quota_bytes=100)
    assert await files.used_bytes(user_id=user) == 100


async def test_the_model_gets_the_newest_files_that_fit_the_budget(
    store: PostgresStore, files: PostgresFileStorage, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    user = context.user_id
    newest, big, older, missing = [await attachment(store, context) for _ in range(4)]
    for attachment_id, size in ((newest, 60), (big, 50), (older, 30)):
        await save(
            files, user_id=user, attachment_id=attachment_id, content=b"x" * size, quota_bytes=0
        )
    loaded = await files.load_many(
        user_id=user, attachment_ids=[newest, big, older, missing], budget_bytes=100
    )
    assert set(loaded) == {newest, older}
    # The newest always comes, whatever its size.
    alone = await files.load_many(user_id=user, attachment_ids=[big, newest], budget_bytes=10)
    assert set(alone) == {big}
