"""CPU per event of merging a run's events with its tools' events: Taskchat's merge
(_sdk/chatkit.py) against the ChatKit SDK's own (`chatkit.agents._merge_generators`).

`stream_agent_response` passes every event of a run (each streamed text delta is one)
through this merge. Both merges read the same source of EVENTS ready events and an empty
tools' queue, in three alternating batches; CPU time per event, and the median ratio.

Target: ours/the SDK's at most 0.5.

    uv run python bench/event_merge.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chatkit.agents import _merge_generators
from tests.support.queue_source import QueueSource

from bench._support import alternating_batches, median_ratio
from taskchat._sdk.chatkit import merged

EVENTS = 20_000
BATCHES = 3
TARGET = 0.5

Merge = Callable[[AsyncIterator[Any], AsyncIterator[Any]], AsyncIterator[Any]]


async def run_events(count: int) -> AsyncIterator[int]:
    """A run's events, queued already (as a run's are when its consumer is behind)."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(count):
        queue.put_nowait(number)
    for _ in range(count):
        yield await queue.get()


async def cpu_per_event(merge: Merge) -> float:
    start = time.process_time()
    count = 0
    # The tools' queue stays empty for the whole run.
    async for _ in merge(run_events(EVENTS), QueueSource[int]()):
        count += 1
    assert count == EVENTS
    return (time.process_time() - start) / EVENTS


async def main() -> float:
    merges: dict[str, Merge] = {"ours": merged, "the SDK's": _merge_generators}

    async def measure(name: str) -> float:
        return await cpu_per_event(merges[name])

    for name in merges:
        await measure(name)  # warm-up: the first run of either was several times slower

    ratios = await alternating_batches(measure, "ours", "the SDK's", BATCHES, "event")
    return median_ratio(ratios, "ours/the SDK's", TARGET)


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(main()) <= TARGET else 1)
