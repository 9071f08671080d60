"""Thread history as model input: assistant messages as plain text, tags as their text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
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


async def test_the_history_is_accepted_by_both_model_paths() -> None:
    # openai-agents 0.25 takes a stored answer's `output_text` parts on the
    # chat-completions path too (0.24 raised "Unknown content" there, which broke every
    # second turn with an OpenAI-compatible provider until the history sent plain text).
    items: list[ThreadItem] = [
        user(UserMessageTextContent(text="Remember milk")),
        assistant("Noted: ", "milk."),
        assistant("  ", item_id="msg_blank"),
        user(UserMessageTextContent(text="What did I say?")),
    ]
    converted: list[Any] = await HistoryConverter().to_agent_input(items)
    assert converted[1]["role"] == "assistant"
    assert [part["text"] for part in converted[1]["content"]] == ["Noted: ", "milk."]
    messages: list[Any] = Converter.items_to_messages(converted)
    assert [m["role"] for m in messages] == ["user", "assistant", "assistant", "user"]
    # The parts of an answer reach the provider as its text, in order.
    said = json.dumps(messages[1]["content"])
    assert said.index("Noted:") < said.index("milk.")


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
