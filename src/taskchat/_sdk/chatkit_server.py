"""openai-chatkit 1.6.5: serving an already-parsed request, with our own stream loop.

`ChatKitServer.process` parses each request with a `TypeAdapter` it builds per call, about
18 ms of CPU a request here. We parse with one adapter built once (the route needs the
parsed request anyway, to answer a bad one with a 400 before streaming) and call what
`process` itself dispatches to.

For streams, `_process_streaming` would re-raise any error that escapes the request's
events once the 200 is sent, so the connection just drops (the widget shows a hang). We
take the events from `_process_streaming_impl` and frame them exactly as it does, so the
caller can end a failed stream with an error event instead.

For `threads.create`, `_process_streaming_impl` stores the new thread, sends
`thread.created`, then stores the first message: two statements, one of them before the
first event. `new_thread_events` streams the same events from the same steps, but hands
the thread and its first message to `store_first`, which stores both at once.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import datetime
from typing import TypeGuard, TypeVar

from chatkit.server import ChatKitServer
from chatkit.types import (
    ChatKitReq,
    NonStreamingReq,
    Page,
    StreamingReq,
    Thread,
    ThreadCreatedEvent,
    ThreadItemDoneEvent,
    ThreadMetadata,
    ThreadsCreateReq,
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


StoreFirst = Callable[[ThreadMetadata, UserMessageItem], Awaitable[None]]
"""Stores a new thread together with its first message."""


def stream_events(
    server: ChatKitServer[C],
    request: StreamingReq,
    context: C,
    store_first: StoreFirst | None = None,
) -> AsyncGenerator[ThreadStreamEvent, None]:
    """The events a streaming request produces (what `_process_streaming` frames); with
    `store_first`, a `threads.create` without attachments stores its thread with its first
    message (`new_thread_events`)."""
    if store_first is not None and opens_before_storing(request):
        return new_thread_events(server, request, context, store_first)
    return server._process_streaming_impl(request, context)


def opens_before_storing(request: ChatKitReq) -> TypeGuard[ThreadsCreateReq]:
    """Whether `request` is streamed by `new_thread_events` (given `store_first`), whose
    first event, `thread.created`, is made before anything is stored or claimed.

    A message with attachments claims them before it is stored: stored after the thread,
    as the SDK does, so a stream cut between the two leaves them with a thread (that can be
    deleted, and them with it), never with none."""
    return isinstance(request, ThreadsCreateReq) and not request.params.input.attachments


async def new_thread_events(
    server: ChatKitServer[C], request: ThreadsCreateReq, context: C, store_first: StoreFirst
) -> AsyncGenerator[ThreadStreamEvent, None]:
    """The events `_process_streaming_impl` streams for `request`, in the same order from
    the same steps (the message built, its attachments stored, the answer's events), but
    with the thread stored only with its first message, by `store_first`."""
    # Naive local time, as the SDK stamps it: a thread reads the same whichever path made it.
    created_at = datetime.now()  # noqa: DTZ005
    thread = Thread(
        id=server.store.generate_thread_id(context), created_at=created_at, items=Page()
    )
    yield ThreadCreatedEvent(thread=server._to_thread_response(thread))
    message = await server._build_user_message_item(request.params.input, thread, context)
    for attachment in message.attachments:
        await server.store.save_attachment(attachment, context=context)
    await store_first(ThreadMetadata(**thread.model_dump()), message)
    yield ThreadItemDoneEvent(item=message)
    async for event in server._process_events(
        thread, context, lambda: server.respond(thread, message, context)
    ):
        yield event


def sse_frame(server: ChatKitServer[C], event: ThreadStreamEvent) -> bytes:
    """One event as `_process_streaming` sends it: a server-sent `data:` line."""
    return b"data: " + server._serialize(event) + b"\n\n"


async def serve_non_streaming(
    server: ChatKitServer[C], request: NonStreamingReq, context: C
) -> bytes:
    """What `server.process(<the request's JSON>, context)` answers, as JSON bytes."""
    return await server._process_non_streaming(request, context)


__all__ = ["new_thread_events", "serve_non_streaming", "sse_frame", "stream_events"]
