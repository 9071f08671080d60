"""Threads and items built for store tests, stored through the real store."""

from __future__ import annotations

from datetime import datetime, timedelta

from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    InferenceOptions,
    ThreadItem,
    ThreadMetadata,
    UserMessageItem,
    UserMessageTextContent,
)

from taskchat.chat.store.postgres import PostgresStore, chat_id
from taskchat.context import RequestContext

# Naive on purpose: the ChatKit SDK stamps items with naive datetimes.
BASE = datetime(2026, 1, 1, 12, 0, 0)  # noqa: DTZ001


def make_thread(title: str | None = None, at: datetime = BASE) -> ThreadMetadata:
    return ThreadMetadata(id=chat_id("thread"), created_at=at, title=title, metadata={"k": [1]})


def user_message(thread_id: str, text_: str, at: datetime = BASE) -> UserMessageItem:
    return UserMessageItem(
        id=chat_id("message"),
        thread_id=thread_id,
        created_at=at,
        content=[UserMessageTextContent(text=text_)],
        attachments=[],
        inference_options=InferenceOptions(),
    )


def assistant_message(thread_id: str, text_: str, at: datetime = BASE) -> AssistantMessageItem:
    return AssistantMessageItem(
        id=chat_id("message"),
        thread_id=thread_id,
        created_at=at,
        content=[AssistantMessageContent(text=text_)],
    )


async def thread_with_items(
    store: PostgresStore, context: RequestContext, count: int, *, same_time: bool = False
) -> tuple[ThreadMetadata, list[ThreadItem]]:
    thread = make_thread()
    await store.save_thread(thread, context)
    items: list[ThreadItem] = []
    for index in range(count):
        at = BASE if same_time else BASE + timedelta(seconds=index)
        item = user_message(thread.id, f"message {index}", at)
        await store.add_thread_item(thread.id, item, context)
        items.append(item)
    return thread, items
