"""CPU per later turn's agent run of a thread's history as model input: Taskchat's
(chat/turn/history.py: each answer as its plain text) against the ChatKit SDK's rendering of
answers (a list of `output_text` parts), everything else the same.

Per run: the thread's newest 30 items (15 messages and their answers) converted to model
input, the chat-completions conversion of that input (what the model client sends), and an
Agents SDK run over it whose model answers at once (agents.testing.ScriptedModel): the run
copies its input (its RunState among others), and those copies are where most of the
difference lies. ROUNDS runs a batch, three alternating batches; the median ratio.

Target: ours/the SDK's at most 0.9.

    uv run python bench/history_input.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents import Agent, RunConfig, Runner, TResponseInputItem
from agents.models.chatcmpl_converter import Converter
from agents.testing import ScriptedModel, assistant_message
from chatkit.agents import ThreadItemConverter
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    InferenceOptions,
    ThreadItem,
    UserMessageItem,
    UserMessageTextContent,
)

from bench._support import alternating_batches, median_ratio
from taskchat.chat.turn.history import HistoryConverter

ROUNDS = 400
BATCHES = 3
TARGET = 0.9


class SdkAnswers(HistoryConverter):
    """Taskchat's history, but with the answers as the ChatKit SDK renders them."""

    async def assistant_message_to_input(
        self, item: AssistantMessageItem
    ) -> TResponseInputItem | list[TResponseInputItem] | None:
        return await ThreadItemConverter.assistant_message_to_input(self, item)


def thread_items() -> list[ThreadItem]:
    """A thread's newest 30 items, oldest first: 15 messages, each with its answer."""
    now = datetime.now(UTC)
    items: list[ThreadItem] = []
    for n in range(15):
        items.append(
            UserMessageItem(
                id=f"msg_u{n}",
                thread_id="thr_bench",
                created_at=now,
                content=[UserMessageTextContent(text="Add buy milk to my list for tomorrow. ")],
                attachments=[],
                inference_options=InferenceOptions(),
            )
        )
        items.append(
            AssistantMessageItem(
                id=f"msg_a{n}",
                thread_id="thr_bench",
                created_at=now,
                content=[AssistantMessageContent(text="Added “Buy milk”, due tomorrow. " * 4)],
            )
        )
    return items


async def one_run(converter: HistoryConverter, items: list[ThreadItem]) -> None:
    history = await converter.to_agent_input(items)
    Converter.items_to_messages(history)
    agent = Agent(
        name="bench", instructions="Help.", model=ScriptedModel([[assistant_message("Ok.")]])
    )
    run = Runner.run_streamed(agent, history, run_config=RunConfig(tracing_disabled=True))
    async for _ in run.stream_events():
        pass


async def main() -> None:
    items = thread_items()
    converters: dict[str, HistoryConverter] = {
        "ours": HistoryConverter(),
        "the SDK's": SdkAnswers(),
    }

    async def measure(name: str) -> float:
        start = time.process_time()
        for _ in range(ROUNDS):
            await one_run(converters[name], items)
        return (time.process_time() - start) / ROUNDS

    for name in converters:  # warm-up
        await one_run(converters[name], items)
    ratios = await alternating_batches(measure, "ours", "the SDK's", BATCHES, "run")
    median = median_ratio(ratios, "ours/the SDK's", TARGET)
    sys.exit(0 if median <= TARGET else 1)


if __name__ == "__main__":
    asyncio.run(main())
