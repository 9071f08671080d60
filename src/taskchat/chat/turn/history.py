"""A turn's history: the thread's latest items as model input both model paths accept, and
the store as the turn's agent sees it, with that same read served once.

`HistoryConverter` makes the input. An @-mentioned task becomes the task as it is now; an
attached image becomes image input and a text file its text; a widget becomes its copy text.

`PreloadedHistoryStore` answers the SDK's first look at the thread: `stream_agent_response`
(openai-chatkit 1.6.5) starts by loading the thread's newest items, which the turn has just
loaded for the model's history, so that read is served from memory. Any write, or any other
read, goes to the real store and ends the shortcut, so nothing stale is served. If the SDK
stops making that read, nothing breaks: the shortcut is simply unused.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Mapping

from agents import TResponseInputItem
from chatkit.agents import ThreadItemConverter
from chatkit.store import Store, StoreItemType
from chatkit.types import (
    AssistantMessageItem,
    Attachment,
    ImageAttachment,
    Page,
    ThreadItem,
    ThreadMetadata,
    UserMessageTagContent,
    WidgetItem,
)
from openai.types.responses import EasyInputMessageParam, ResponseInputContentParam
from openai.types.responses.response_input_image_param import ResponseInputImageParam
from openai.types.responses.response_input_text_param import ResponseInputTextParam

from taskchat.context import RequestContext
from taskchat.tasks.schemas import TaskPublic

TaskLookup = Callable[[str], Awaitable[TaskPublic | None]]
"""The turn's user's task with this id, or None (missing, or someone else's)."""


class HistoryConverter(ThreadItemConverter):
    """One turn's history as model input.

    An @-mentioned task becomes the task as it is now, looked up by its id for the turn's
    user (`tasks`): the tag's text and data come from the browser and are not trusted.

    An attached image becomes image input, as a data URL of its bytes (the provider cannot
    reach Taskchat's server); an attached text file becomes its text, up to `text_chars`
    characters. Both shapes pass on both model paths (`input_image` becomes the chat
    completions' `image_url` part). `files` holds the bytes the turn loaded, by attachment
    id; an attachment not in it is named, not shown (gone, or past the turn's budget).
    """

    def __init__(
        self,
        tasks: TaskLookup | None = None,
        *,
        files: Mapping[str, bytes] | None = None,
        text_chars: int = 20_000,
    ) -> None:
        self.tasks = tasks
        self.files = files or {}
        self.text_chars = text_chars

    async def assistant_message_to_input(
        self, item: AssistantMessageItem
    ) -> TResponseInputItem | list[TResponseInputItem] | None:
        # An answer as its plain text, not the SDK's `output_text` parts: both model paths
        # take either, but every run deep-copies its input (openai-agents 0.25's RunState
        # among others), and a string costs a fraction of a list of part dicts to build and
        # to copy, on every later turn (bench/history_input.py). A blank answer says nothing.
        text = "".join(part.text for part in item.content)
        if not text.strip():
            return None
        return EasyInputMessageParam(type="message", role="assistant", content=text)

    async def widget_to_input(
        self, item: WidgetItem
    ) -> TResponseInputItem | list[TResponseInputItem] | None:
        # The SDK's default sends the widget's whole JSON; its copy text (one line per task
        # for ours, chat/widgets/tasks.py) says the same in a tenth of the tokens.
        if not item.copy_text:
            return await super().widget_to_input(item)
        text = f"Shown to the user as a widget (id: {item.id}):\n{item.copy_text}"
        return EasyInputMessageParam(type="message", role="user", content=text)

    async def tag_to_message_content(self, tag: UserMessageTagContent) -> ResponseInputContentParam:
        # The SDK raises NotImplementedError here, which would break every later turn of a
        # thread holding a tagged message.
        task = await self.tasks(tag.id) if self.tasks and tag.id.startswith("task_") else None
        if task is None:
            # Not a task of this user's (or gone): nothing but what they typed.
            text = f"@{tag.text} is not one of the user's tasks (it may have been deleted)."
        else:
            text = f"@{tag.text} refers to this task of the user's, as it is now: {task.summary()}"
        return ResponseInputTextParam(type="input_text", text=text)

    async def attachment_to_message_content(
        self, attachment: Attachment
    ) -> ResponseInputContentParam:
        content = self.files.get(attachment.id)
        if content is None:
            text = f"[The user attached {attachment.name} here; it is not available in this turn.]"
            return ResponseInputTextParam(type="input_text", text=text)
        if isinstance(attachment, ImageAttachment):
            encoded = base64.b64encode(content).decode("ascii")
            return ResponseInputImageParam(
                type="input_image",
                detail="auto",
                image_url=f"data:{attachment.mime_type};base64,{encoded}",
            )
        return ResponseInputTextParam(
            type="input_text", text=file_text(attachment, content, self.text_chars)
        )


def file_text(attachment: Attachment, content: bytes, limit: int) -> str:
    """An attached text file as the model reads it: named, fenced, cut at `limit` characters."""
    # Checked as UTF-8 when it was uploaded (files/kinds.py).
    text = content.decode("utf-8-sig", errors="replace")
    note = ""
    if len(text) > limit:
        note = f" (only its first {limit:,} of {len(text):,} characters: the rest was cut)"
        text = text[:limit]
    return (
        f"The user attached the file {attachment.name} ({attachment.mime_type}){note}:\n"
        f"<file name={attachment.name!r}>\n{text}\n</file>"
    )


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
