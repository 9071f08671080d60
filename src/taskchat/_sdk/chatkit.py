"""openai-chatkit 1.6.5: serving an already-parsed request with our own stream loop, and
merging a run's events with its tools' events.

Serving (`stream_events`, `serve_non_streaming`, `sse_frame`). `ChatKitServer.process`
parses each request with a `TypeAdapter` it builds per call; the route has parsed and
checked the request already (chat/request.py), so this calls what `process` dispatches to
(seam `parsed_once`). For streams, `_process_streaming` re-raises an error that escapes the
request's events once the 200 is sent, so the connection just drops: the events are taken
from `_process_streaming_impl` and framed exactly as it frames them, so the caller ends a
failed stream with an error event instead (always on: correctness).

A new thread (`new_thread_events`, seam `new_thread_statement`). For `threads.create`,
`_process_streaming_impl` stores the thread, sends `thread.created`, then stores the first
message: two statements, one of them before the first event. `new_thread_events` streams
the same events from the same steps, but hands the thread and its message to `store_first`,
which stores both at once.

Attachments (`ClaimsAttachmentsFirst`, always on: correctness). The SDK builds a message,
then stores its attachments one by one; one lost to a message sent at the same moment would
leave the others claimed by a message that is never stored. `claim_attachments` runs first
and claims all of them or, raising, none.

The merge (`merged`, seam `event_merge`). `stream_agent_response` reads the run's events
and the events its tools stream (`AgentContext.stream`, a queue) through
`chatkit.agents._merge_generators`, which makes a new task for every event and waits on
both sources with `asyncio.wait`; every streamed text delta is such an event. `merged`
reads each source in one task of its own for the whole run. Each source's events keep
their order, a tool's event is passed on while the run waits, and when either source ends
the other's read is cancelled (an event it had already taken is still passed on), so
nothing left in the tools' queue is taken from it: the SDK drains that queue itself
afterwards. An error from a source is raised by the merge, which then stops reading the
other; closing the merge early stops both. Measured by bench/event_merge.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any, TypeGuard, TypeVar

import chatkit.agents
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

from taskchat._sdk.patch import Patch

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


A = TypeVar("A")
B = TypeVar("B")

_END = object()
"""Put by a source's reader when the source is exhausted."""


class _Failed:
    """Put by a source's reader when the source raised."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


async def merged(a: AsyncIterator[A], b: AsyncIterator[B]) -> AsyncGenerator[A | B, None]:
    """The events of both sources as they come, until either ends (named as the SDK's
    merge names them)."""
    arrived: asyncio.Queue[tuple[int, Any]] = asyncio.Queue()

    async def read(index: int, source: AsyncIterator[Any]) -> None:
        try:
            async for event in source:
                arrived.put_nowait((index, event))
        except Exception as error:
            arrived.put_nowait((index, _Failed(error)))
        else:
            arrived.put_nowait((index, _END))

    readers = [
        asyncio.ensure_future(read(0, a)),
        asyncio.ensure_future(read(1, b)),
    ]
    try:
        while True:
            index, event = await arrived.get()
            if event is _END:
                break
            if isinstance(event, _Failed):
                raise event.error
            yield event
        # One source ended: stop reading the other (a read waiting on a queue takes
        # nothing when cancelled), then pass on what it had already read.
        other = readers[1 - index]
        other.cancel()
        await asyncio.wait([other])
        while not arrived.empty():
            _, event = arrived.get_nowait()
            if isinstance(event, _Failed):
                raise event.error
            if event is not _END:
                yield event
    finally:
        for reader in readers:
            reader.cancel()


def patches() -> list[Patch]:
    """`stream_agent_response` merging with `merged`: the module global it looks up when
    it runs (installed by `_sdk/seams.py`)."""
    return [Patch("event_merge", chatkit.agents, "_merge_generators", merged)]


__all__ = [
    "ClaimsAttachmentsFirst",
    "StoreFirst",
    "merged",
    "new_thread_events",
    "opens_before_storing",
    "patches",
    "serve_non_streaming",
    "sse_frame",
    "stream_events",
]
