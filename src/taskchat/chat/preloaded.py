"""The store as one turn's agent sees it: the history the turn loaded, served once."""

from __future__ import annotations

from chatkit.store import Store, StoreItemType
from chatkit.types import Attachment, Page, ThreadItem, ThreadMetadata

from taskchat.context import RequestContext


class PreloadedHistoryStore(Store[RequestContext]):
    """Delegates to the real store, but answers the SDK's first look at the thread once.

    `stream_agent_response` (openai-chatkit 1.6.5) starts by loading the thread's newest
    items, which the turn has just loaded for the model's history: that one read is
    served from memory (a database round trip saved on every turn). Any write, or any
    other read, goes to the real store and ends the shortcut, so nothing stale is served.
    If the SDK stops making that read, nothing breaks: the shortcut is simply unused.
    """

    def __init__(
        self, store: Store[RequestContext], thread_id: str, newest_first: Page[ThreadItem]
    ) -> None:
        self._store = store
        self._thread_id = thread_id
        self._recent: Page[ThreadItem] | None = newest_first

    def _forget(self) -> None:
        self._recent = None

    def generate_thread_id(self, context: RequestContext) -> str:
        return self._store.generate_thread_id(context)

    def generate_item_id(
        self, item_type: StoreItemType, thread: ThreadMetadata, context: RequestContext
    ) -> str:
        return self._store.generate_item_id(item_type, thread, context)

    async def load_thread_items(
        self,
        thread_id: str,
        after: str | None,
        limit: int,
        order: str,
        context: RequestContext,
    ) -> Page[ThreadItem]:
        recent, self._recent = self._recent, None
        if (
            recent is not None
            and thread_id == self._thread_id
            and after is None
            and order == "desc"
            and (limit <= len(recent.data) or not recent.has_more)
        ):
            data = list(recent.data[:limit])
            more = len(recent.data) > limit or recent.has_more
            return Page(data=data, has_more=more, after=data[-1].id if data and more else None)
        return await self._store.load_thread_items(thread_id, after, limit, order, context)

    async def load_thread(self, thread_id: str, context: RequestContext) -> ThreadMetadata:
        return await self._store.load_thread(thread_id, context)

    async def save_thread(self, thread: ThreadMetadata, context: RequestContext) -> None:
        self._forget()
        await self._store.save_thread(thread, context)

    async def load_threads(
        self, limit: int, after: str | None, order: str, context: RequestContext
    ) -> Page[ThreadMetadata]:
        return await self._store.load_threads(limit, after, order, context)

    async def add_thread_item(
        self, thread_id: str, item: ThreadItem, context: RequestContext
    ) -> None:
        self._forget()
        await self._store.add_thread_item(thread_id, item, context)

    async def save_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        self._forget()
        await self._store.save_item(thread_id, item, context)

    async def load_item(self, thread_id: str, item_id: str, context: RequestContext) -> ThreadItem:
        return await self._store.load_item(thread_id, item_id, context)

    async def delete_thread(self, thread_id: str, context: RequestContext) -> None:
        self._forget()
        await self._store.delete_thread(thread_id, context)

    async def delete_thread_item(
        self, thread_id: str, item_id: str, context: RequestContext
    ) -> None:
        self._forget()
        await self._store.delete_thread_item(thread_id, item_id, context)

    async def save_attachment(self, attachment: Attachment, context: RequestContext) -> None:
        await self._store.save_attachment(attachment, context)

    async def load_attachment(self, attachment_id: str, context: RequestContext) -> Attachment:
        return await self._store.load_attachment(attachment_id, context)

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        await self._store.delete_attachment(attachment_id, context)
