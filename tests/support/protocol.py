"""Building ChatKit requests and reading SSE answers in tests."""

from __future__ import annotations

import json
from typing import Any

import httpx


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


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sse_events(body: str) -> list[dict[str, Any]]:
    """The JSON events of an SSE body."""
    events = []
    for line in body.splitlines():
        if line.startswith("data: "):
            events.append(json.loads(line.removeprefix("data: ")))
    return events


async def post(
    client: httpx.AsyncClient, token: str, body: dict[str, Any]
) -> tuple[httpx.Response, list[dict[str, Any]]]:
    """POST /chatkit and return the response with its SSE events (if any)."""
    response = await client.post("/chatkit", json=body, headers=auth(token))
    events = (
        sse_events(response.text)
        if response.headers.get("content-type", "").startswith("text/event-stream")
        else []
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
