"""openai-chatkit 1.6.5: serving an already-parsed request, with our own stream loop.

`ChatKitServer.process` parses each request with a `TypeAdapter` it builds per call, about
18 ms of CPU a request here. We parse with one adapter built once (the route needs the
parsed request anyway, to answer a bad one with a 400 before streaming) and call what
`process` itself dispatches to.

For streams, `_process_streaming` would re-raise any error that escapes the request's
events once the 200 is sent, so the connection just drops (the widget shows a hang). We
take the events from `_process_streaming_impl` and frame them exactly as it does, so the
caller can end a failed stream with an error event instead.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TypeVar

from chatkit.server import ChatKitServer
from chatkit.types import (
    NonStreamingReq,
    StreamingReq,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageInput,
    UserMessageItem,
)

C = TypeVar("C")


class ClaimsAttachmentsFirst(ChatKitServer[C]):
    """A server that claims a new message's attachments before the SDK stores anything of it.

    openai-chatkit 1.6.5 builds the message (`_build_user_message_item`), then stores its
    attachments one by one (`_process_new_thread_item_respond`): one lost to a message
    sent at the same time would leave the others claimed by a message that is never
    stored. `claim_attachments` runs first, and claims all of them or (raising) none; the
    SDK's stores after it change nothing.
    """

    async def claim_attachments(
        self, thread: ThreadMetadata, attachment_ids: list[str], context: C
    ) -> None:
        """Mark the attachments as sent in `thread`: all of them, or raise."""
        raise NotImplementedError

    async def _build_user_message_item(
        self, input: UserMessageInput, thread: ThreadMetadata, context: C
    ) -> UserMessageItem:
        await self.claim_attachments(thread, input.attachments, context)
        return await super()._build_user_message_item(input, thread, context)


def stream_events(
    server: ChatKitServer[C], request: StreamingReq, context: C
) -> AsyncGenerator[ThreadStreamEvent, None]:
    """The events a streaming request produces (what `_process_streaming` frames)."""
    return server._process_streaming_impl(request, context)


def sse_frame(server: ChatKitServer[C], event: ThreadStreamEvent) -> bytes:
    """One event as `_process_streaming` sends it: a server-sent `data:` line."""
    return b"data: " + server._serialize(event) + b"\n\n"


async def serve_non_streaming(
    server: ChatKitServer[C], request: NonStreamingReq, context: C
) -> bytes:
    """What `server.process(<the request's JSON>, context)` answers, as JSON bytes."""
    return await server._process_non_streaming(request, context)


__all__ = ["serve_non_streaming", "sse_frame", "stream_events"]
