"""A scripted OpenAI-compatible server on loopback: chat completions and Responses.

The only test double in the suite: it stands in for the model provider, which these
machines cannot reach. The app's real OpenAI client talks to it over real HTTP.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.ports import free_port

TITLE_MODEL = "scripted-title"
"""The model of title calls in tests (settings.make_settings): answered from
`FakeOpenAI.titles`, never from the turns' replies."""


@dataclass
class ToolCall:
    """A function call the scripted model makes."""

    name: str
    arguments: dict[str, Any]
    call_id: str = "call_1"


@dataclass
class Reply:
    """One scripted model response."""

    text: list[str] = field(default_factory=list)
    """Text chunks, streamed one by one."""

    tool_calls: list[ToolCall] = field(default_factory=list)
    status: int = 200
    """A non-200 status answers with an error body instead of a stream."""

    break_after: int | None = None
    """Drop the connection after this many text chunks."""

    hold_after: int | None = None
    """Stop sending (but keep the connection) after this many text chunks."""

    chunk_delay: float = 0.0

    unfinished: bool = False
    """End the stream cleanly after the text, with no finish reason and no [DONE]."""


class FakeOpenAI:
    """The server, its script, and the requests it received."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.titles: deque[str] = deque()
        """Answers to title calls (model TITLE_MODEL), apart from the turns' replies; with
        none scripted, a title call fails (503) and the thread gets its fallback title."""
        self.title_requests: list[dict[str, Any]] = []
        self.title_delay = 0.0
        """Seconds a title call takes, for tests of what happens meanwhile."""
        self.release = threading.Event()
        self.streams_closed = 0
        app = Starlette(routes=self.routes())
        self._server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def routes(self) -> list[Route]:
        return [
            Route("/v1/chat/completions", self._chat, methods=["POST"]),
            Route("/v1/responses", self._responses, methods=["POST"]),
            # Over HTTP, for tests in another process (the frontend's): script and inspect.
            Route("/_control/script", self._control_script, methods=["POST"]),
            Route("/_control/release", self._control_release, methods=["POST"]),
            Route("/_control/titles", self._control_titles, methods=["POST"]),
            Route("/_control/reset", self._control_reset, methods=["POST"]),
            Route("/_control/state", self._control_state, methods=["GET"]),
        ]

    async def _control_script(self, request: Request) -> Response:
        replies = [reply_from_json(item) for item in await request.json()]
        self.script(*replies)
        return JSONResponse({"queued": len(self.replies)})

    async def _control_titles(self, request: Request) -> Response:
        self.titles.extend(str(title) for title in await request.json())
        return JSONResponse({"queued": len(self.titles)})

    async def _control_release(self, request: Request) -> Response:
        self.release.set()
        return JSONResponse({"released": True})

    async def _control_reset(self, request: Request) -> Response:
        self.reset()
        return JSONResponse({"reset": True})

    async def _control_state(self, request: Request) -> Response:
        return JSONResponse(
            {
                "requests": self.requests,
                "streams_closed": self.streams_closed,
                "queued": len(self.replies),
            }
        )

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake OpenAI server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.release.set()
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def reset(self) -> None:
        self.replies.clear()
        self.requests.clear()
        self.titles.clear()
        self.title_requests.clear()
        self.title_delay = 0.0
        self.release.clear()

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    async def _title(
        self,
        body: dict[str, Any],
        answer: Callable[[dict[str, Any], Reply], dict[str, Any]],
    ) -> Response:
        """A title call (not streamed), answered from `titles` in `answer`'s API shape."""
        self.title_requests.append(body)
        await asyncio.sleep(self.title_delay)
        if not self.titles:
            return JSONResponse(
                {"error": {"message": "no title scripted", "type": "server_error"}},
                status_code=503,
            )
        return JSONResponse(answer(body, Reply(text=[self.titles.popleft()])))

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        if body.get("model") == TITLE_MODEL:
            return await self._title(body, _completion)
        self.requests.append(body)
        reply = self.replies.popleft() if self.replies else Reply(text=["(no script)"])
        if reply.status != 200:
            return JSONResponse(
                {"error": {"message": "scripted failure", "type": "server_error"}},
                status_code=reply.status,
            )
        if not body.get("stream"):
            return JSONResponse(_completion(body, reply))
        return StreamingResponse(self._stream(body, reply), media_type="text/event-stream")

    async def _paced(self, reply: Reply) -> AsyncIterator[str]:
        """The reply's text chunks, with its scripted delays, hold and break."""
        for index, text in enumerate(reply.text):
            if reply.break_after is not None and index == reply.break_after:
                raise ConnectionAbortedError("scripted break")
            if reply.hold_after is not None and index == reply.hold_after:
                # Bounded, so a test that forgets to release cannot hang the suite.
                await asyncio.to_thread(self.release.wait, 60)
            if reply.chunk_delay:
                await asyncio.sleep(reply.chunk_delay)
            yield text

    async def _stream(self, body: dict[str, Any], reply: Reply) -> AsyncIterator[bytes]:
        model = body.get("model", "scripted")

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            payload = {
                "id": "chatcmpl-scripted",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return f"data: {json.dumps(payload)}\n\n".encode()

        try:
            yield chunk({"role": "assistant", "content": ""})
            async for text in self._paced(reply):
                yield chunk({"content": text})
            if reply.unfinished:
                return
            for index, call in enumerate(reply.tool_calls):
                yield chunk(
                    {
                        "tool_calls": [
                            {
                                "index": index,
                                "id": call.call_id,
                                "type": "function",
                                "function": {
                                    "name": call.name,
                                    "arguments": json.dumps(call.arguments),
                                },
                            }
                        ]
                    }
                )
            yield chunk({}, "tool_calls" if reply.tool_calls else "stop")
            yield b"data: [DONE]\n\n"
        finally:
            self.streams_closed += 1

    async def _responses(self, request: Request) -> Response:
        body = await request.json()
        if body.get("model") == TITLE_MODEL:
            return await self._title(body, _response)
        self.requests.append(body)
        reply = self.replies.popleft() if self.replies else Reply(text=["(no script)"])
        if reply.status != 200:
            return JSONResponse(
                {"error": {"message": "scripted failure", "type": "server_error"}},
                status_code=reply.status,
            )
        return StreamingResponse(self._response_events(body, reply), media_type="text/event-stream")

    async def _response_events(self, body: dict[str, Any], reply: Reply) -> AsyncIterator[bytes]:
        """The Responses API's streamed events for one scripted reply."""
        sequence = 0

        def event(kind: str, **fields: Any) -> bytes:
            nonlocal sequence
            payload = {"type": kind, "sequence_number": sequence, **fields}
            sequence += 1
            return f"event: {kind}\ndata: {json.dumps(payload)}\n\n".encode()

        base = {
            "id": "resp_scripted",
            "object": "response",
            "created_at": int(time.time()),
            "model": body.get("model", "scripted"),
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
        }
        message_id = "msg_scripted"
        text = "".join(reply.text)
        try:
            yield event(
                "response.created", response={**base, "status": "in_progress", "output": []}
            )
            output: list[dict[str, Any]] = []
            if reply.text:
                place = {"item_id": message_id, "output_index": 0, "content_index": 0}
                message = {"id": message_id, "type": "message", "role": "assistant"}
                yield event(
                    "response.output_item.added",
                    output_index=0,
                    item={**message, "status": "in_progress", "content": []},
                )
                empty = {"type": "output_text", "text": "", "annotations": []}
                yield event("response.content_part.added", **place, part=empty)
                async for piece in self._paced(reply):
                    yield event("response.output_text.delta", **place, delta=piece, logprobs=[])
                if reply.unfinished:
                    return
                part = {"type": "output_text", "text": text, "annotations": []}
                yield event("response.output_text.done", **place, text=text, logprobs=[])
                yield event("response.content_part.done", **place, part=part)
                done = {**message, "status": "completed", "content": [part]}
                yield event("response.output_item.done", output_index=0, item=done)
                output.append(done)
            for call in reply.tool_calls:
                item = {
                    "id": f"fc_{call.call_id}",
                    "type": "function_call",
                    "call_id": call.call_id,
                    "name": call.name,
                    "arguments": json.dumps(call.arguments),
                    "status": "completed",
                }
                yield event("response.output_item.added", output_index=len(output), item=item)
                yield event("response.output_item.done", output_index=len(output), item=item)
                output.append(item)
            usage = {
                "input_tokens": 1,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": 1,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": 2,
            }
            yield event(
                "response.completed",
                response={**base, "status": "completed", "output": output, "usage": usage},
            )
        finally:
            self.streams_closed += 1


def reply_from_json(data: dict[str, Any]) -> Reply:
    """A `Reply` from its JSON form: the dataclass's fields, tool calls as objects."""
    fields = dict(data)
    calls = [ToolCall(**call) for call in fields.pop("tool_calls", [])]
    return Reply(**fields, tool_calls=calls)


def _response(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    """A Responses API answer (not streamed) with the reply's text."""
    return {
        "id": "resp_scripted",
        "object": "response",
        "created_at": int(time.time()),
        "model": body.get("model", "scripted"),
        "status": "completed",
        "output": [
            {
                "type": "message",
                "id": "msg_scripted",
                "role": "assistant",
                "status": "completed",
                "content": [
                    {"type": "output_text", "text": "".join(reply.text), "annotations": []}
                ],
            }
        ],
    }


def _completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "scripted"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(reply.text)},
                "finish_reason": "stop",
            }
        ],
    }


def main() -> None:
    """Serve the scripted model alone (benchmarks): `python -m tests.support.fake_openai PORT`."""
    import sys

    port = int(sys.argv[1])
    fake = FakeOpenAI()
    fake.port = port
    app = Starlette(routes=fake.routes())
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
