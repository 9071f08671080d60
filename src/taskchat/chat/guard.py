"""The last line of a stream: whatever fails once the 200 has been sent ends the stream
with one error event, never a dropped connection.

The SDK turns a failure inside `respond()` into an error event itself, but not one that
happens around it: storing the user's message, loading the thread, saving its title. Those
escape the stream, and the browser sees the connection close mid-answer with no word why.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing

import anyio
from chatkit.store import NotFoundError
from chatkit.types import (
    ErrorEvent,
    ThreadCreatedEvent,
    ThreadItemDoneEvent,
    ThreadStreamEvent,
)

from taskchat.chat.turn import failure_of
from taskchat.logs import log_failure
from taskchat.metrics import Metrics

logger = logging.getLogger("taskchat.chat")

Frame = Callable[[ThreadStreamEvent], bytes]
Discard = Callable[[str], Awaitable[None]]


async def guarded(
    events: AsyncGenerator[ThreadStreamEvent, None],
    frame: Frame,
    *,
    discard_thread: Discard,
    metrics: Metrics,
) -> AsyncGenerator[bytes, None]:
    """`events` framed for the wire; a failure ends them with one error event.

    A thread this stream created but could not store a message in is discarded again, so
    a failed `threads.create` leaves no empty thread in the person's list.
    """
    empty_thread: str | None = None
    ended_with_error = False
    async with aclosing(events):
        try:
            async for event in events:
                if isinstance(event, ThreadCreatedEvent):
                    empty_thread = event.thread.id
                elif isinstance(event, ThreadItemDoneEvent):
                    empty_thread = None
                ended_with_error = isinstance(event, ErrorEvent)
                yield frame(event)
        except Exception as error:
            failure = failure_of(error)
            metrics.errors.labels(failure.kind).inc()
            log_failure(logger, "stream failed (%s)", failure.kind, error=error)
            if empty_thread is not None:
                await _discard(discard_thread, empty_thread)
            if not ended_with_error:
                # The SDK already sent one (and then failed saving the thread): one is enough.
                yield frame(
                    ErrorEvent(code="custom", message=failure.message, allow_retry=failure.retry)
                )


async def _discard(discard_thread: Discard, thread_id: str) -> None:
    # Shielded: the client may be gone already, and the thread should go all the same.
    with anyio.CancelScope(shield=True):
        try:
            await discard_thread(thread_id)
        except NotFoundError:
            pass  # never stored (a new thread is stored with its first message): none to discard
        except Exception as error:
            log_failure(logger, "could not discard the empty thread %s", thread_id, error=error)
