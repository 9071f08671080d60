"""Waiting for what happens on another connection (a database notice, a replica)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

DEADLINE_SECONDS = 10.0


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Return once `check` holds; fail saying `what` did not happen within the deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {DEADLINE_SECONDS} s: {what}")
        await asyncio.sleep(0.02)


def holds(value: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    """A plain condition, as a check for `eventually`."""

    async def check() -> bool:
        return value()

    return check
