"""Building ChatKit requests and reading SSE answers in tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from typing import Any

import httpx
from httpx_sse import EventSource


def message_input(text: str) -> dict[str, Any]:
    return {
        "content": [{"type": "input_text", "text": text}],
        "attachments": [],
        "inference_options": {},
    }


def create_thread(text: str) -> dict[str, Any]:
    return {"type": "threads.create", "params": {"input": message_input(text)}}


def add_message(thread_id: str, text: str) -> dict[str, Any]:
    return {
        "type": "threads.add_user_message",
        "params": {"thread_id": thread_id, "input": message_input(text)},
    }


SSE = "text/event-stream"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sse_events(response: httpx.Response) -> list[dict[str, Any]]:
    """The JSON events of a whole (already read) SSE response."""
    return list(iter_events(response))


def iter_events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """The JSON events of an SSE response, as they arrive."""
    for event in EventSource(response).iter_sse():
        data: dict[str, Any] = event.json()
        yield data


async def aiter_events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The JSON events of a streamed SSE response (async client), as they arrive."""
    async for event in EventSource(response).aiter_sse():
        data: dict[str, Any] = event.json()
        yield data


async def collected_events(stream: AsyncIterable[bytes]) -> list[dict[str, Any]]:
    """The JSON events of an SSE byte stream served in-process (a `StreamingResult`)."""
    body = b"".join([chunk async for chunk in stream])
    return sse_events(httpx.Response(200, headers={"content-type": SSE}, content=body))


async def post(
    client: httpx.AsyncClient, token: str, body: dict[str, Any]
) -> tuple[httpx.Response, list[dict[str, Any]]]:
    """POST /chatkit and return the response with its SSE events (if any)."""
    response = await client.post("/chatkit", json=body, headers=auth(token))
    events = (
        sse_events(response) if response.headers.get("content-type", "").startswith(SSE) else []
    )
    return response, events


def thread_id_of(events: list[dict[str, Any]]) -> str:
    for event in events:
        if event["type"] == "thread.created":
            return str(event["thread"]["id"])
    raise AssertionError(f"no thread.created event in {events}")


def assistant_texts(events: list[dict[str, Any]]) -> list[str]:
    return [
        "".join(part["text"] for part in event["item"]["content"])
        for event in events
        if event["type"] == "thread.item.done" and event["item"]["type"] == "assistant_message"
    ]


async def titled(client: httpx.AsyncClient, token: str, thread_id: str) -> str:
    """The thread's title, once its first turn has given it one: the title call may come
    back after the turn's stream has ended (chat/titles.py)."""
    body = {"type": "threads.get_by_id", "params": {"thread_id": thread_id}}
    for _ in range(200):
        response = await client.post("/chatkit", json=body, headers=auth(token))
        title = response.json().get("title")
        if isinstance(title, str) and title:
            return title
        await asyncio.sleep(0.025)
    raise AssertionError(f"thread {thread_id} got no title")
