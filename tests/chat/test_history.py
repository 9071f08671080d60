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
