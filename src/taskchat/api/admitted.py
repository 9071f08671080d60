"""An answer's event stream, sent once its admission under the chat limits is answered.

The admission (chat/admission.py) is sent as soon as the request is seen to stream, before
it is parsed and checked (api/chatkit.py); the headers go only once it is back, so a refusal
is still a 429 (raised before anything is sent, answered by the error handler) and never a
stream that breaks off.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from fastapi.responses import StreamingResponse
from starlette.types import Send

from taskchat.chat.admission import Admission

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class AdmittedStream(StreamingResponse):
    """Server-sent events that start once `admission` has taken a slot, and give it back
    when they end, however they end (withdrawn when the client leaves before the first).

    With `first_is_pure` (its first event is made before anything is stored, as a new
    thread's `thread.created` is), the first event is made while the admission is answered,
    and dropped if it is refused."""

    body_iterator: AsyncGenerator[bytes, None]

    def __init__(
        self,
        events: AsyncGenerator[bytes, None],
        admission: Admission,
        *,
        first_is_pure: bool = False,
    ) -> None:
        super().__init__(events, media_type="text/event-stream", headers=SSE_HEADERS)
        self.admission = admission
        self.first_is_pure = first_is_pure

    async def stream_response(self, send: Send) -> None:
        if not self.admission.started:
            await super().stream_response(send)
            return
        ready = []
        try:
            if self.first_is_pure:
                async for chunk in self.body_iterator:
                    ready.append(chunk)
                    break
            lease = await self.admission.lease()
        except asyncio.CancelledError:
            self.admission.withdraw()
            raise
        except BaseException:
            self.admission.withdraw()  # a refusal took no slot; anything else gives it back
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
