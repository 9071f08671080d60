"""An endless async source over a queue, as the tools' events of a run are
(`AgentContext._events`): for the event merge's tests and its benchmark."""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

T = TypeVar("T")


class QueueSource(Generic[T]):
    """Yields what is put in `queue`, waiting when it is empty; never ends."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[T] = asyncio.Queue()

    def __aiter__(self) -> QueueSource[T]:
        return self

    async def __anext__(self) -> T:
        return await self.queue.get()
