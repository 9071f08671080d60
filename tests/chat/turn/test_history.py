"""A turn's history: thread items as model input both model paths accept, and the SDK's first
look at the thread served from the turn's own read, everything else from the real store."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from agents.models.chatcmpl_converter import Converter
from chatkit.agents import ThreadItemConverter
from chatkit.store import NotFoundError
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    FileAttachment,
    ImageAttachment,
    InferenceOptions,
    ThreadItem,
    ThreadMetadata,
    UserMessageItem,
    UserMessageTagContent,
    UserMessageTextContent,
)

from taskchat.chat.store.postgres import PostgresStore, chat_id
from taskchat.chat.turn.history import HistoryConverter, PreloadedHistoryStore
from taskchat.context import RequestContext
from tests.support.threads import BASE, make_thread, thread_with_items, user_message

NOW = datetime.now(UTC)


def user(*content: UserMessageTextContent | UserMessageTagContent) -> UserMessageItem:
    return UserMessageItem(
        id="msg_u",
        thread_id="thr_1",
        created_at=NOW,
        content=list(content),
        attachments=[],
        inference_options=InferenceOptions(),
    )


def assistant(*texts: str, item_id: str = "msg_a") -> AssistantMessageItem:
    return AssistantMessageItem(
        id=item_id,
        thread_id="thr_1",
        created_at=NOW,
        content=[AssistantMessageContent(text=text) for text in texts],
    )


async def test_answers_become_plain_text_that_both_model_paths_take() -> None:
    items: list[ThreadItem] = [
        user(UserMessageTextContent(text="Remember milk")),
        assistant("Noted: ", "milk."),
        user(UserMessageTextContent(text="What did I say?")),
    ]
    converted: list[Any] = await HistoryConverter().to_agent_input(items)
    assert converted[1] == {"type": "message", "role": "assistant", "content": "Noted: milk."}
    messages: list[Any] = Converter.items_to_messages(converted)
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == "Noted: milk."


async def test_the_sdks_own_rendering_of_answers_is_taken_by_chat_completions_too() -> None:
    # openai-agents 0.25 takes a stored answer's `output_text` parts on the chat-completions
    # path (0.24 raised "Unknown content", which broke every second turn with an
    # OpenAI-compatible provider): the plain text is a saving, not a workaround.
    items: list[ThreadItem] = [
        user(UserMessageTextContent(text="Remember milk")),
        assistant("Noted: ", "milk."),
    ]
    theirs: list[Any] = await ThreadItemConverter().to_agent_input(items)
    assert isinstance(theirs[1]["content"], list)
    messages: list[Any] = Converter.items_to_messages(theirs)
    assert [m["role"] for m in messages] == ["user", "assistant"]
    said = json.dumps(messages[1]["content"])
    assert said.index("Noted:") < said.index("milk.")


async def test_blank_answers_are_left_out() -> None:
    items: list[ThreadItem] = [user(UserMessageTextContent(text="hi")), assistant("  ")]
    converted = await HistoryConverter().to_agent_input(items)
    assert len(converted) == 1


async def test_a_tagged_message_is_sent_with_the_tags_text() -> None:
    tag = UserMessageTagContent(id="task_1", text="Dentist", data={"id": "task_1"})
    items: list[ThreadItem] = [user(UserMessageTextContent(text="Move "), tag)]
    converted = await HistoryConverter().to_agent_input(items)
    flat = json.dumps(converted)
    assert "Move @Dentist" in flat
    with pytest.raises(NotImplementedError):  # the SDK's own, which the override replaces
        await ThreadItemConverter().to_agent_input(items)


async def test_attachments_become_image_input_or_text_both_model_paths_accept() -> None:
    image = ImageAttachment(
        id="atc_i", name="dot.png", mime_type="image/png", preview_url="http://x/p"
    )
    note = FileAttachment(id="atc_t", name="a.csv", mime_type="text/csv")
    gone = FileAttachment(id="atc_g", name="old.txt", mime_type="text/plain")
    message = user(UserMessageTextContent(text="Look"))
    message.attachments = [image, note, gone]
    converter = HistoryConverter(files={"atc_i": b"\x89PNG", "atc_t": b"a,b\n" * 10}, text_chars=12)
    items = await converter.to_agent_input([message])
    plain: list[dict[str, Any]] = json.loads(json.dumps(items))
    parts = [part for item in plain for part in item["content"]]
    assert parts[1] == {
        "type": "input_image",
        "detail": "auto",
        "image_url": "data:image/png;base64,iVBORw==",
    }
    assert parts[2]["text"].startswith("The user attached the file a.csv (text/csv) (only its")
    assert "a,b\na,b\na,b\n\n</file>" in parts[2]["text"]
    assert "old.txt" in parts[3]["text"] and "not available" in parts[3]["text"]
    # The chat-completions path takes all of it (an image_url part for the image).
    messages: list[dict[str, Any]] = json.loads(json.dumps(Converter.items_to_messages(items)))
    assert [part["type"] for part in messages[0]["content"]] == [
        "text",
        "image_url",
        "text",
        "text",
    ]


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
