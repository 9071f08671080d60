"""PostgresStore: ChatKit's Store over PostgreSQL, scoped to the requesting user.

Every statement filters on `context.user_id`, and runs in a transaction whose
row-level-security setting names the same user, so a query that forgot its filter
would still see nothing of anyone else's. The statements run on the pooled asyncpg
connection directly: a turn makes several of them, and SQLAlchemy Core would cost
several times the statement around each (bench/chatkit_overhead.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import asyncpg
from chatkit.errors import CustomStreamError
from chatkit.store import NotFoundError, Store, StoreItemType
from chatkit.types import (
    Attachment,
    Page,
    ThreadItem,
    ThreadMetadata,
)
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.chat.context import ChatContext
from taskchat.chat.store.keyset import MAX_PAGE, keyset_page, page
from taskchat.context import RequestContext
from taskchat.db.engine import SCOPED_ROW, create_engine, pooled_driver, user_transaction_raw
from taskchat.db.errors import DatabaseUnavailableError, is_unavailable
from taskchat.errors import ProblemError
from taskchat.files.storage import AttachmentGoneError, AttachmentSentError
from taskchat.ids import new_id

_ITEM = TypeAdapter[ThreadItem](ThreadItem)
_ATTACHMENT = TypeAdapter[Attachment](Attachment)

PREFIXES: dict[StoreItemType, str] = {
    "thread": "thr",
    "message": "msg",
    "tool_call": "tc",
    "workflow": "wf",
    "task": "tsk",
    "attachment": "atc",
    "sdk_hidden_context": "shcx",
}
"""The SDK's own id prefixes, kept (with more random bits than its ids carry)."""


DATABASE_MESSAGE = (
    "The database is unavailable right now, so this could not be finished. "
    "Try again in a few seconds."
)
"""The error event of a turn the database failed."""


class StoreUnavailableError(DatabaseUnavailableError, CustomStreamError):
    """A write the database could not take.

    Both kinds on purpose: the SDK writes an answer's items from inside its stream loop,
    where only a `CustomStreamError` becomes an error event with a message (anything else
    is a bare "stream error"); outside a stream it is the API's 503 with Retry-After.
    """

    def __init__(self) -> None:
        super().__init__()
        self.message = DATABASE_MESSAGE
        self.allow_retry = True


@contextmanager
def _writing() -> Iterator[None]:
    try:
        yield
    except Exception as error:
        if is_unavailable(error):
            raise StoreUnavailableError from error
        raise


def chat_id(kind: StoreItemType) -> str:
    """A new id for a thread, an item or an attachment, such as `msg_5f0c...`."""
    return new_id(PREFIXES[kind])


def _aware(moment: datetime) -> datetime:
    # The SDK stamps items with naive local datetimes (datetime.now()); the column is
    # timestamptz, so read them as the local time they are.
    return moment if moment.tzinfo is not None else moment.astimezone(UTC)


_THREAD_SCOPE = "user_id = $1"
_ITEM_SCOPE = "user_id = $1 AND thread_id = $2"

_DELETE_ITEM = (
    "WITH item AS (DELETE FROM chat_items WHERE user_id = $1 AND thread_id = $2 AND id = $3 "
    "RETURNING data->'attachments' AS attachments) "
    "DELETE FROM chat_attachments WHERE user_id = $1 AND thread_id = $2 AND id IN ("
    "SELECT attachment->>'id' FROM item, jsonb_array_elements(CASE "
    "WHEN jsonb_typeof(item.attachments) = 'array' THEN item.attachments "
    "ELSE '[]'::jsonb END) AS attachment)"
)
"""Delete an item and the attachments it carries (a user message's), in one statement."""


UNSENT_MAX = 20
"""The most attachments a user may have made and not sent yet (each is a row until the
sweep); past it, attachments.create is refused until some are sent or removed."""


def too_many_unsent(count: int) -> ProblemError:
    """The 409 of an attachment past `UNSENT_MAX`."""
    return ProblemError(
        f"You have {count} attachments that were never sent; send or remove some before "
        "attaching more.",
        status=409,
        code="too_many_unsent",
    )


def _sent(name: str) -> AttachmentSentError:
    return AttachmentSentError(
        f"{name} was already sent in a message; attach the file again to send it here."
    )


_SAVE_UNSENT = """
WITH unsent AS (
    SELECT count(*) AS n FROM chat_attachments
    WHERE user_id = $1 AND thread_id IS NULL AND id <> $2
), saved AS (
    INSERT INTO chat_attachments (user_id, id, thread_id, data)
    SELECT $1::text, $2::text, NULL, $3::jsonb FROM unsent WHERE unsent.n < $4
    ON CONFLICT (user_id, id) DO UPDATE SET data = EXCLUDED.data
    WHERE chat_attachments.thread_id IS NULL
    RETURNING true
)
SELECT (SELECT n FROM unsent) AS unsent, EXISTS (SELECT FROM saved) AS saved
"""
"""Store a user's unsent attachment ($2, data $3) unless they have $4 others unsent, or it
was sent already; says how many others are unsent, and whether it was stored."""


class PostgresStore(Store[RequestContext]):
    """ChatKit thread, item and attachment storage in PostgreSQL."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str, *, pool_size: int = 5) -> PostgresStore:
        """A store with its own engine, for use outside the app."""
        return cls(create_engine(url, pool_size=pool_size))

    # Ids -----------------------------------------------------------------

    def generate_thread_id(self, context: RequestContext) -> str:
        return chat_id("thread")

    def generate_item_id(
        self, item_type: StoreItemType, thread: ThreadMetadata, context: RequestContext
    ) -> str:
        return chat_id(item_type)

    # Threads -------------------------------------------------------------

    async def load_thread(self, thread_id: str, context: RequestContext) -> ThreadMetadata:
        # Read by the request's check a moment ago (chat/request.py).
        known = context.thread if isinstance(context, ChatContext) else None
        if known is not None and known.id == thread_id:
            # A copy: whoever loads it may change it, as they may a thread read here.
            return known.model_copy(deep=True)
        async with pooled_driver(self.engine) as conn:
            # One round trip (migration 0012): the function scopes itself to the user.
            data = await conn.fetchval("SELECT chat_thread($1, $2)", context.user_id, thread_id)
        if data is None:
            raise NotFoundError(f"Thread {thread_id} not found")
        return ThreadMetadata.model_validate(data)

    async def save_thread(self, thread: ThreadMetadata, context: RequestContext) -> None:
        # Validate through ThreadMetadata so a full Thread's items are never stored here.
        if type(thread) is not ThreadMetadata:
            thread = ThreadMetadata.model_validate(thread.model_dump())
        data = thread.model_dump_json()
        with _writing():
            async with pooled_driver(self.engine) as conn:
                await conn.execute(
                    "INSERT INTO chat_threads (user_id, id, created_at, data) "
                    f"SELECT $1::text, $2::text, $3::timestamptz, $4::jsonb FROM {SCOPED_ROW} "
                    "ON CONFLICT (user_id, id) DO UPDATE SET data = EXCLUDED.data",
                    context.user_id,
                    thread.id,
                    _aware(thread.created_at),
                    data,
                )

    async def set_title_if_unset(
        self, thread_id: str, title: str, context: RequestContext
    ) -> ThreadMetadata | None:
        """Give the thread `title` if it has none yet; the thread as now stored, or None
        when it already had a title (one its owner gave it stays) or is gone."""
        with _writing():
            async with pooled_driver(self.engine) as conn:
                # One statement, one round trip (migration 0010): it scopes itself to the
                # user, as a transaction here would in three more.
                data = await conn.fetchval(
                    "SELECT chat_set_title_if_unset($1, $2, $3)",
                    context.user_id,
                    thread_id,
                    title,
                )
        return None if data is None else ThreadMetadata.model_validate(data)

    async def load_threads(
        self,
        limit: int,
        after: str | None,
        order: str,
        context: RequestContext,
    ) -> Page[ThreadMetadata]:
        rows, has_more = await keyset_page(
            self.engine,
            "chat_threads",
            _THREAD_SCOPE,
            [context.user_id],
            after=after,
            limit=limit,
            order=order,
            user_id=context.user_id,
            gone=f"Thread {after} not found (the list cursor is gone)",
        )
        data = [ThreadMetadata.model_validate(row["data"]) for row in rows]
        return page(data, has_more)

    async def delete_thread(self, thread_id: str, context: RequestContext) -> None:
        async with user_transaction_raw(self.engine, context.user_id) as conn:
            await conn.execute(
                "DELETE FROM chat_attachments WHERE user_id = $1 AND thread_id = $2",
                context.user_id,
                thread_id,
            )
            # Items go with the thread (ON DELETE CASCADE).
            deleted = await conn.fetchval(
                "DELETE FROM chat_threads WHERE user_id = $1 AND id = $2 RETURNING id",
                context.user_id,
                thread_id,
            )
        if deleted is None:
            raise NotFoundError(f"Thread {thread_id} not found")

    # Items ---------------------------------------------------------------

    async def load_thread_items(
        self,
        thread_id: str,
        after: str | None,
        limit: int,
        order: str,
        context: RequestContext,
    ) -> Page[ThreadItem]:
        if after is None and order == "desc":
            # Every turn's history, and the SDK's own first look at a thread.
            rows, has_more = await self._newest_items(thread_id, limit, context)
            return page([_ITEM.validate_python(row["data"]) for row in rows], has_more)
        rows, has_more = await keyset_page(
            self.engine,
            "chat_items",
            _ITEM_SCOPE,
            [context.user_id, thread_id],
            after=after,
            limit=limit,
            order=order,
            user_id=context.user_id,
            gone=f"Item {after} not found in thread {thread_id}",
        )
        data = [_ITEM.validate_python(row["data"]) for row in rows]
        return page(data, has_more)

    async def add_thread_item(
        self, thread_id: str, item: ThreadItem, context: RequestContext
    ) -> None:
        # An upsert: the SDK adds a workflow item that stays open across a client-tool
        # turn twice.
        await self._upsert_item(thread_id, item, context)

    async def save_new_thread(
        self, thread: ThreadMetadata, first: ThreadItem, context: RequestContext
    ) -> None:
        """Store a new thread and its first item, in one statement (the SDK stores the
        thread, then the item: two round trips, and the first before the stream's first
        event)."""
        with _writing():
            async with pooled_driver(self.engine) as conn:
                # The thread's insert runs in the statement's CTE; the item's foreign key is
                # checked at the statement's end, when both rows are there.
                await conn.execute(
                    "WITH new_thread AS ("
                    "INSERT INTO chat_threads (user_id, id, created_at, data) "
                    f"SELECT $1::text, $2::text, $3::timestamptz, $4::jsonb FROM {SCOPED_ROW}) "
                    "INSERT INTO chat_items (user_id, thread_id, id, type, created_at, data) "
                    "SELECT $1::text, $2::text, $5::text, $6::text, $7::timestamptz, $8::jsonb "
                    f"FROM {SCOPED_ROW}",
                    context.user_id,
                    thread.id,
                    _aware(thread.created_at),
                    thread.model_dump_json(),
                    first.id,
                    first.type,
                    _aware(first.created_at),
                    first.model_dump_json(),
                )

    async def save_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        await self._upsert_item(thread_id, item, context)

    async def load_item(self, thread_id: str, item_id: str, context: RequestContext) -> ThreadItem:
        async with user_transaction_raw(self.engine, context.user_id) as conn:
            data = await conn.fetchval(
                "SELECT data FROM chat_items WHERE user_id = $1 AND thread_id = $2 AND id = $3",
                context.user_id,
                thread_id,
                item_id,
            )
        if data is None:
            raise NotFoundError(f"Item {item_id} not found in thread {thread_id}")
        return _ITEM.validate_python(data)

    async def delete_thread_item(
        self, thread_id: str, item_id: str, context: RequestContext
    ) -> None:
        # A user message's attachments go with it (their files by the foreign key's
        # cascade): `threads.retry_after_item` deletes the messages after the retried one
        # this way, and their files must not stay behind, counted and served.
        with _writing():
            async with user_transaction_raw(self.engine, context.user_id) as conn:
                await conn.execute(_DELETE_ITEM, context.user_id, thread_id, item_id)

    # Attachments ---------------------------------------------------------

    async def save_attachment(self, attachment: Attachment, context: RequestContext) -> None:
        """Store an attachment not sent yet, or mark one as sent in its `thread_id`.

        Never un-sends one and never moves one to another thread: an attachment already
        sent elsewhere is an AttachmentSentError (409), and marking one as sent that is
        gone an AttachmentGoneError (404), never a new row. A new one past the user's
        `UNSENT_MAX` unsent ones is refused (409), however many arrive at once.
        """
        if attachment.thread_id is not None:
            await self.claim_attachments(attachment.thread_id, [attachment.id], context)
            return
        # Under the user's advisory lock, so the count is read after any save that came
        # first has committed (counted and saved in one statement alone, saves sent at once
        # would all see room for one more).
        with _writing():
            async with user_transaction_raw(self.engine, context.user_id, locked=True) as conn:
                row = await conn.fetchrow(
                    _SAVE_UNSENT,
                    context.user_id,
                    attachment.id,
                    attachment.model_dump_json(),
                    UNSENT_MAX,
                )
        assert row is not None  # one row of aggregates, always
        if row["saved"]:
            return
        if row["unsent"] >= UNSENT_MAX:
            raise too_many_unsent(row["unsent"])
        raise _sent(attachment.name)

    async def claim_attachments(
        self, thread_id: str, attachment_ids: Sequence[str], context: RequestContext
    ) -> None:
        """Mark the user's attachments as sent in `thread_id`: all of them, or (raising)
        none.

        The claim is conditional, so of two messages sent at once naming one attachment
        only one gets it: an attachment sent in another thread is an AttachmentSentError
        (409), a missing one an AttachmentGoneError (404). One already marked as sent in
        `thread_id` stays so (the SDK stores each attachment again after the claim).
        """
        ids = list(dict.fromkeys(attachment_ids))
        if not ids:
            return
        with _writing():
            async with user_transaction_raw(self.engine, context.user_id) as conn:
                # Locked in id order, so two claims of overlapping sets cannot deadlock.
                rows = await conn.fetch(
                    "SELECT id, thread_id, data->>'name' AS name FROM chat_attachments "
                    "WHERE user_id = $1 AND id = ANY($2::text[]) ORDER BY id FOR UPDATE",
                    context.user_id,
                    ids,
                )
                found = {row["id"]: row for row in rows}
                for attachment_id in ids:
                    row = found.get(attachment_id)
                    if row is None:
                        raise AttachmentGoneError(attachment_id)
                    if row["thread_id"] not in (None, thread_id):
                        raise _sent(row["name"])
                await conn.execute(
                    "UPDATE chat_attachments SET thread_id = $3, "
                    "data = jsonb_set(data, '{thread_id}', to_jsonb($3::text)) "
                    "WHERE user_id = $1 AND id = ANY($2::text[]) AND thread_id IS NULL",
                    context.user_id,
                    ids,
                    thread_id,
                )

    async def load_attachment(self, attachment_id: str, context: RequestContext) -> Attachment:
        async with user_transaction_raw(self.engine, context.user_id) as conn:
            data = await conn.fetchval(
                "SELECT data FROM chat_attachments WHERE user_id = $1 AND id = $2",
                context.user_id,
                attachment_id,
            )
        if data is None:
            raise NotFoundError(f"Attachment {attachment_id} not found")
        return _ATTACHMENT.validate_python(data)

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        # Only one not sent yet: a sent one goes with its message or its thread.
        async with user_transaction_raw(self.engine, context.user_id) as conn:
            await conn.execute(
                "DELETE FROM chat_attachments WHERE user_id = $1 AND id = $2 AND thread_id IS NULL",
                context.user_id,
                attachment_id,
            )

    # Helpers -------------------------------------------------------------

    async def _newest_items(
        self, thread_id: str, limit: int, context: RequestContext
    ) -> tuple[list[asyncpg.Record], bool]:
        """The thread's `limit` newest items, newest first, in one round trip (migration
        0012, the function scopes itself to the user); and whether there are older ones."""
        limit = max(1, min(limit, MAX_PAGE))
        async with pooled_driver(self.engine) as conn:
            rows = await conn.fetch(
                "SELECT id, data FROM chat_newest_items($1, $2, $3)",
                context.user_id,
                thread_id,
                limit + 1,
            )
        return rows[:limit], len(rows) > limit

    async def _upsert_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        try:
            with _writing():
                async with pooled_driver(self.engine) as conn:
                    # The first write fixes an item's place in the thread; later writes change
                    # its content.
                    await conn.execute(
                        "INSERT INTO chat_items (user_id, thread_id, id, type, created_at, data) "
                        "SELECT $1::text, $2::text, $3::text, $4::text, $5::timestamptz, $6::jsonb "
                        f"FROM {SCOPED_ROW} "
                        "ON CONFLICT (user_id, thread_id, id) "
                        "DO UPDATE SET data = EXCLUDED.data, type = EXCLUDED.type",
                        context.user_id,
                        thread_id,
                        item.id,
                        item.type,
                        _aware(item.created_at),
                        item.model_dump_json(),
                    )
        except asyncpg.ForeignKeyViolationError as error:
            # The only foreign key is the thread: it is missing or someone else's.
            raise NotFoundError(f"Thread {thread_id} not found") from error
