"""An answer's event stream, sent once the chat limits let it in.

The admission is one round trip to PostgreSQL (chat/limits.py). Awaited where it is
decided, it came first and everything after it waited: the checks of the request, the
response's own start (its tasks, the disconnect watch) and the first event, all before the
first event reached the person. Here its statement is sent as soon as the request is known
to stream, and answered while those run; the headers go only once it is back, so a refusal
is still a 429 (raised before anything is sent, answered by the error handler) and never a
stream that breaks off.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from fastapi.responses import StreamingResponse
from starlette.types import Send

from taskchat.chat.limits import TurnLease, TurnLimiter

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


async def admission(limiter: TurnLimiter, user_id: str) -> asyncio.Task[TurnLease] | None:
    """The user's admission under way (None when the limits are off), its statement sent
    (unless it waits for a connection)."""
    if not limiter.enabled:
        return None
    admitting = asyncio.ensure_future(limiter.admit(user_id))
    try:
        # One pass of the event loop: the admission runs until it waits for its answer.
        await asyncio.sleep(0)
    except BaseException:
        give_back(admitting)
        raise
    return admitting


def give_back(admitting: asyncio.Task[TurnLease] | None) -> None:
    """The request will not stream after all: the slot, once taken, is withdrawn (it
    counts against neither limit)."""
    if admitting is not None:
        admitting.add_done_callback(_withdraw)


def _withdraw(admitted: asyncio.Future[TurnLease]) -> None:
    # Its refusal or failure is taken here, so none is left unretrieved.
    if not admitted.cancelled() and admitted.exception() is None:
        admitted.result().withdraw()


class AdmittedStream(StreamingResponse):
    """Server-sent events that start once `admitting` has taken a slot, and give it back
    when they end, however they end (withdrawn when the client leaves before the first).

    With `first_is_pure` (its first event is made before anything is stored, as a new
    thread's `thread.created` is), the first event is made while the admission is answered,
    and dropped if it is refused."""

    body_iterator: AsyncGenerator[bytes, None]

    def __init__(
        self,
        events: AsyncGenerator[bytes, None],
        admitting: asyncio.Task[TurnLease] | None,
        *,
        first_is_pure: bool = False,
    ) -> None:
        super().__init__(events, media_type="text/event-stream", headers=SSE_HEADERS)
        self.admitting = admitting
        self.first_is_pure = first_is_pure

    async def stream_response(self, send: Send) -> None:
        if self.admitting is None:
            await super().stream_response(send)
            return
        ready = []
        try:
            if self.first_is_pure:
                async for chunk in self.body_iterator:
                    ready.append(chunk)
                    break
            # Shielded: a client that leaves meanwhile cancels the wait, not the statement
            # (whose slot would then be taken with no stream to give it back).
            lease = await asyncio.shield(self.admitting)
        except asyncio.CancelledError:
            give_back(self.admitting)
            raise
        except BaseException:
            give_back(self.admitting)  # a refusal took no slot; anything else gives it back
            await self.body_iterator.aclose()  # what was made is not sent
            raise
        if ready:
            self.body_iterator = _after(ready, self.body_iterator)
        try:
            await super().stream_response(send)
        finally:
            lease.release()


async def _after(
    ready: list[bytes], rest: AsyncGenerator[bytes, None]
) -> AsyncGenerator[bytes, None]:
    """The events made already, then the rest."""
    for chunk in ready:
        yield chunk
    async for chunk in rest:
        yield chunk
