"""Thread history as model input: assistant messages as plain text, tags as their text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from agents.exceptions import UserError
from agents.models.chatcmpl_converter import Converter
from chatkit.agents import ThreadItemConverter
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    FileAttachment,
    ImageAttachment,
    InferenceOptions,
    ThreadItem,
    UserMessageItem,
    UserMessageTagContent,
    UserMessageTextContent,
)

from taskchat.chat.history import HistoryConverter

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


async def test_assistant_messages_become_plain_text() -> None:
    items: list[ThreadItem] = [
        user(UserMessageTextContent(text="Remember milk")),
        assistant("Noted: ", "milk."),
    ]
    converted: list[Any] = await HistoryConverter().to_agent_input(items)
    answer = converted[-1]
    assert answer == {"type": "message", "role": "assistant", "content": "Noted: milk."}


async def test_the_history_is_accepted_by_the_chat_completions_path() -> None:
    items: list[ThreadItem] = [
        user(UserMessageTextContent(text="Remember milk")),
        assistant("Noted: milk."),
        user(UserMessageTextContent(text="What did I say?")),
    ]
    ours = await HistoryConverter().to_agent_input(items)
    messages = Converter.items_to_messages(ours)
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    # The SDK's own rendering is what breaks the second turn on this path (if this stops
    # raising, an SDK release fixed it, and the override may go).
    theirs = await ThreadItemConverter().to_agent_input(items)
    with pytest.raises(UserError, match="Unknown content"):
        Converter.items_to_messages(theirs)


async def test_blank_assistant_messages_are_left_out() -> None:
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
