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
from chatkit.types import NonStreamingReq, StreamingReq, ThreadStreamEvent

C = TypeVar("C")


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
