"""An answer's event stream, sent once the chat limits let it in.

The admission is one round trip to PostgreSQL (chat/limits.py). Awaited before the response
is made, it came first and the response's own start after it (its tasks, the disconnect
watch, the headers): both before the first event. Here the admission's statement is sent
first, and answered while the response gets ready; the headers go only once it is back, so
a refusal is still a 429 (raised before anything is sent, answered by the error handler)
and never a stream that breaks off.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable

from fastapi.responses import StreamingResponse
from starlette.types import Send

from taskchat.chat.limits import TurnLease, TurnLimiter

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


async def admission(limiter: TurnLimiter, user_id: str) -> asyncio.Task[TurnLease] | None:
    """The user's admission under way (None when the limits are off), its statement sent."""
    if not limiter.enabled:
        return None
    admitting = asyncio.ensure_future(limiter.admit(user_id))
    # One pass of the event loop: the admission runs up to its statement's answer.
    await asyncio.sleep(0)
    return admitting


def _give_back(admitted: asyncio.Future[TurnLease]) -> None:
    if not admitted.cancelled() and admitted.exception() is None:
        admitted.result().release()


class AdmittedStream(StreamingResponse):
    """Server-sent events that start once `admitting` has taken a slot, and give it back
    when they end, however they end (also when the client leaves before the first)."""

    def __init__(
        self, events: AsyncIterable[bytes], admitting: asyncio.Task[TurnLease] | None
    ) -> None:
        super().__init__(events, media_type="text/event-stream", headers=SSE_HEADERS)
        self.admitting = admitting

    async def stream_response(self, send: Send) -> None:
        if self.admitting is None:
            await super().stream_response(send)
            return
        try:
            # Shielded: a client that leaves meanwhile cancels the wait, not the statement
            # (whose slot would then be taken with no stream to give it back).
            lease = await asyncio.shield(self.admitting)
        except asyncio.CancelledError:
            self.admitting.add_done_callback(_give_back)
            raise
        try:
            await super().stream_response(send)
        finally:
            lease.release()
