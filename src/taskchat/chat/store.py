"""PostgresStore: ChatKit's Store over PostgreSQL, scoped to the requesting user.

Every statement filters on `context.user_id`, and runs in a transaction whose
row-level-security setting names the same user, so a query that forgot its filter
would still see nothing of anyone else's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from chatkit.store import AttachmentStore, NotFoundError, Store, StoreItemType
from chatkit.types import (
    Attachment,
    AttachmentCreateParams,
    Page,
    ThreadItem,
    ThreadMetadata,
)
from pydantic import TypeAdapter
from sqlalchemy import Select, delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.chat.context import RequestContext
from taskchat.chat.ids import new_id
from taskchat.db.engine import create_engine, user_transaction
from taskchat.db.models import ChatAttachment, ChatItem, ChatThread
from taskchat.errors import TaskchatError

_ITEM = TypeAdapter[ThreadItem](ThreadItem)
_ATTACHMENT = TypeAdapter[Attachment](Attachment)

_threads = ChatThread.__table__  # type: ignore[attr-defined]
_items = ChatItem.__table__  # type: ignore[attr-defined]
_attachments = ChatAttachment.__table__  # type: ignore[attr-defined]

MAX_PAGE = 1000


class UnsupportedError(TaskchatError):
    """The client asked for something this server does not offer."""


def _aware(moment: datetime) -> datetime:
    # The SDK stamps items with naive local datetimes (datetime.now()); the column is
    # timestamptz, so read them as the local time they are.
    return moment if moment.tzinfo is not None else moment.astimezone(UTC)


def _order(order: str) -> Literal["asc", "desc"]:
    return "desc" if order == "desc" else "asc"


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
        return new_id("thread")

    def generate_item_id(
        self, item_type: StoreItemType, thread: ThreadMetadata, context: RequestContext
    ) -> str:
        return new_id(item_type)

    # Threads -------------------------------------------------------------

    async def load_thread(self, thread_id: str, context: RequestContext) -> ThreadMetadata:
        async with user_transaction(self.engine, context.user_id) as conn:
            data = await conn.scalar(
                select(_threads.c.data).where(
                    _threads.c.user_id == context.user_id, _threads.c.id == thread_id
                )
            )
        if data is None:
            raise NotFoundError(f"Thread {thread_id} not found")
        return ThreadMetadata.model_validate(data)

    async def save_thread(self, thread: ThreadMetadata, context: RequestContext) -> None:
        # Validate through ThreadMetadata so a full Thread's items are never stored here.
        data = ThreadMetadata.model_validate(thread.model_dump()).model_dump(mode="json")
        statement = insert(_threads).values(
            user_id=context.user_id,
            id=thread.id,
            created_at=_aware(thread.created_at),
            data=data,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[_threads.c.user_id, _threads.c.id],
            set_={"data": statement.excluded.data},
        )
        async with user_transaction(self.engine, context.user_id) as conn:
            await conn.execute(statement)

    async def load_threads(
        self,
        limit: int,
        after: str | None,
        order: str,
        context: RequestContext,
    ) -> Page[ThreadMetadata]:
        limit = max(1, min(limit, MAX_PAGE))
        async with user_transaction(self.engine, context.user_id) as conn:
            query = await self._after(
                conn,
                select(_threads.c.id, _threads.c.data).where(_threads.c.user_id == context.user_id),
                table=_threads,
                cursor=(
                    select(_threads.c.created_at, _threads.c.seq).where(
                        _threads.c.user_id == context.user_id, _threads.c.id == after
                    )
                    if after
                    else None
                ),
                order=_order(order),
            )
            if query is None:
                raise NotFoundError(f"Thread {after} not found (the list cursor is gone)")
            rows = (await conn.execute(query.limit(limit + 1))).all()
        has_more = len(rows) > limit
        data = [ThreadMetadata.model_validate(row.data) for row in rows[:limit]]
        return Page(data=data, has_more=has_more, after=data[-1].id if data else None)

    async def delete_thread(self, thread_id: str, context: RequestContext) -> None:
        async with user_transaction(self.engine, context.user_id) as conn:
            await conn.execute(
                delete(_attachments).where(
                    _attachments.c.user_id == context.user_id,
                    _attachments.c.thread_id == thread_id,
                )
            )
            # Items go with the thread (ON DELETE CASCADE).
            deleted = await conn.scalar(
                delete(_threads)
                .where(_threads.c.user_id == context.user_id, _threads.c.id == thread_id)
                .returning(_threads.c.id)
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
        limit = max(1, min(limit, MAX_PAGE))
        scope = (
            _items.c.user_id == context.user_id,
            _items.c.thread_id == thread_id,
        )
        async with user_transaction(self.engine, context.user_id) as conn:
            query = await self._after(
                conn,
                select(_items.c.id, _items.c.data).where(*scope),
                table=_items,
                cursor=(
                    select(_items.c.created_at, _items.c.seq).where(*scope, _items.c.id == after)
                    if after
                    else None
                ),
                order=_order(order),
            )
            if query is None:
                # A cursor that is gone (its item deleted, or never this user's): paging on
                # from nowhere would silently end the list early.
                raise NotFoundError(f"Item {after} not found in thread {thread_id}")
            rows = (await conn.execute(query.limit(limit + 1))).all()
        has_more = len(rows) > limit
        data = [_ITEM.validate_python(row.data) for row in rows[:limit]]
        return Page(data=data, has_more=has_more, after=data[-1].id if data else None)

    async def add_thread_item(
        self, thread_id: str, item: ThreadItem, context: RequestContext
    ) -> None:
        # An upsert: the SDK adds a workflow item that stays open across a client-tool
        # turn twice.
        await self._upsert_item(thread_id, item, context)

    async def save_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        await self._upsert_item(thread_id, item, context)

    async def load_item(self, thread_id: str, item_id: str, context: RequestContext) -> ThreadItem:
        async with user_transaction(self.engine, context.user_id) as conn:
            data = await conn.scalar(
                select(_items.c.data).where(
                    _items.c.user_id == context.user_id,
                    _items.c.thread_id == thread_id,
                    _items.c.id == item_id,
                )
            )
        if data is None:
            raise NotFoundError(f"Item {item_id} not found in thread {thread_id}")
        return _ITEM.validate_python(data)

    async def delete_thread_item(
        self, thread_id: str, item_id: str, context: RequestContext
    ) -> None:
        async with user_transaction(self.engine, context.user_id) as conn:
            await conn.execute(
                delete(_items).where(
                    _items.c.user_id == context.user_id,
                    _items.c.thread_id == thread_id,
                    _items.c.id == item_id,
                )
            )

    async def count_items(self, thread_id: str, context: RequestContext) -> int:
        """How many items the thread holds (hidden ones included)."""
        async with user_transaction(self.engine, context.user_id) as conn:
            count = await conn.scalar(
                select(func.count())
                .select_from(_items)
                .where(_items.c.user_id == context.user_id, _items.c.thread_id == thread_id)
            )
        return int(count or 0)

    # Attachments ---------------------------------------------------------

    async def save_attachment(self, attachment: Attachment, context: RequestContext) -> None:
        statement = insert(_attachments).values(
            user_id=context.user_id,
            id=attachment.id,
            thread_id=attachment.thread_id,
            data=attachment.model_dump(mode="json"),
        )
        statement = statement.on_conflict_do_update(
            index_elements=[_attachments.c.user_id, _attachments.c.id],
            set_={
                "data": statement.excluded.data,
                "thread_id": statement.excluded.thread_id,
            },
        )
        async with user_transaction(self.engine, context.user_id) as conn:
            await conn.execute(statement)

    async def load_attachment(self, attachment_id: str, context: RequestContext) -> Attachment:
        async with user_transaction(self.engine, context.user_id) as conn:
            data = await conn.scalar(
                select(_attachments.c.data).where(
                    _attachments.c.user_id == context.user_id,
                    _attachments.c.id == attachment_id,
                )
            )
        if data is None:
            raise NotFoundError(f"Attachment {attachment_id} not found")
        return _ATTACHMENT.validate_python(data)

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        async with user_transaction(self.engine, context.user_id) as conn:
            await conn.execute(
                delete(_attachments).where(
                    _attachments.c.user_id == context.user_id,
                    _attachments.c.id == attachment_id,
                )
            )

    # Helpers -------------------------------------------------------------

    async def _upsert_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        statement = insert(_items).values(
            user_id=context.user_id,
            thread_id=thread_id,
            id=item.id,
            type=item.type,
            created_at=_aware(item.created_at),
            data=item.model_dump(mode="json"),
        )
        # The first write fixes an item's place in the thread; later writes change content.
        statement = statement.on_conflict_do_update(
            index_elements=[_items.c.user_id, _items.c.thread_id, _items.c.id],
            set_={"data": statement.excluded.data, "type": statement.excluded.type},
        )
        try:
            async with user_transaction(self.engine, context.user_id) as conn:
                await conn.execute(statement)
        except IntegrityError as error:
            # The only foreign key is the thread: it is missing or someone else's.
            raise NotFoundError(f"Thread {thread_id} not found") from error

    @staticmethod
    async def _after(
        conn: Any,
        query: Select[Any],
        *,
        table: Any,
        cursor: Select[Any] | None,
        order: Literal["asc", "desc"],
    ) -> Select[Any] | None:
        """Order `query` by (created_at, seq) and start it after the cursor row.

        Returns None when the cursor names no row of this user.
        """
        key = tuple_(table.c.created_at, table.c.seq)
        if cursor is not None:
            row = (await conn.execute(cursor)).first()
            if row is None:
                return None
            bound = tuple_(row.created_at, row.seq)
            query = query.where(key > bound if order == "asc" else key < bound)
        if order == "asc":
            return query.order_by(table.c.created_at.asc(), table.c.seq.asc())
        return query.order_by(table.c.created_at.desc(), table.c.seq.desc())


class PostgresAttachmentStore(AttachmentStore[RequestContext]):
    """Attachment bytes are not hosted by Taskchat; this checks ownership on delete."""

    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        # Raises NotFoundError for a missing or foreign attachment; the row itself is
        # deleted by Store.delete_attachment, which the SDK calls next.
        await self._store.load_attachment(attachment_id, context)

    async def create_attachment(
        self, input: AttachmentCreateParams, context: RequestContext
    ) -> Attachment:
        raise UnsupportedError("File uploads are not supported by this server")

    def generate_attachment_id(self, mime_type: str, context: RequestContext) -> str:
        return new_id("attachment")
