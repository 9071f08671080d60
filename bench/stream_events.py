"""CPU per streamed event of building it from its JSON: Taskchat's model client, which
validates each event into its model (_sdk/openai.py), against the openai client's
unchecked constructor.

Each streamed text delta of an answer is one event. Both clients build the same events, a
chat-completions answer of EVENTS text-delta chunks and a Responses API answer of EVENTS
`response.output_text.delta` events, through the method their streams call for each event,
in three alternating batches; CPU time per event, and the median ratio.

Target: ours/openai's at most 0.5.

    uv run python bench/stream_events.py
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx2 as httpx
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionChunk
from openai.types.responses import ResponseStreamEvent

from bench._support import alternating_batches, median_ratio
from taskchat._sdk.openai import ValidatedEventsOpenAI

EVENTS = 5_000
BATCHES = 3
TARGET = 0.5


def answer_events() -> list[tuple[object, str]]:
    """The events of two answers, as the JSON text each SSE event carries."""
    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    delta = {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0}
    events: list[tuple[object, str]] = []
    for number in range(EVENTS):
        text = f"word{number} "
        choice = {"index": 0, "delta": {"content": text}, "finish_reason": None}
        events.append((ChatCompletionChunk, json.dumps({**chunk, "choices": [choice]})))
        response_event = {**delta, "content_index": 0, "delta": text, "logprobs": []}
        events.append(
            (ResponseStreamEvent, json.dumps({**response_event, "sequence_number": number}))
        )
    return events


def cpu_per_event(client: AsyncOpenAI, events: list[tuple[object, str]]) -> float:
    response = httpx.Response(200, request=httpx.Request("POST", "http://127.0.0.1/v1"))
    build: Any = client._process_response_data
    start = time.process_time()
    for event_type, text in events:
        # As the stream does: the event's JSON parsed, then built into its type.
        build(data=json.loads(text), cast_to=event_type, response=response)
    return (time.process_time() - start) / len(events)


async def main() -> float:
    events = answer_events()
    clients = {
        "ours": ValidatedEventsOpenAI(api_key="x", base_url="http://127.0.0.1/v1"),
        "openai's": AsyncOpenAI(api_key="x", base_url="http://127.0.0.1/v1"),
    }
    for client in clients.values():
        cpu_per_event(client, events[:200])  # warm-up (ours compiles its validators)

    async def measure(name: str) -> float:
        return cpu_per_event(clients[name], events)

    ratios = await alternating_batches(measure, "ours", "openai's", BATCHES, "event")
    return median_ratio(ratios, "ours/openai's", TARGET)


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(main()) <= TARGET else 1)
