"""Bad /chatkit input: a clear 4xx, and nothing stored."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from taskchat.chat.request import says_it_streams
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.protocol import (
    add_message,
    assistant_texts,
    auth,
    create_thread,
    post,
    thread_id_of,
)
from tests.support.tokens import TokenFor


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"{not json", 400, "invalid_json"),
        (b"\xff\xfe", 400, "invalid_json"),
        (b"[]", 400, "invalid_request"),
        (b'{"params": {}}', 400, "invalid_request"),
        (b'{"type": "threads.explode", "params": {}}', 400, "unknown_request_type"),
        (b'{"type": "threads.get_by_id", "params": {}}', 400, "invalid_request"),
        (
            b'{"type": "threads.create", "params": {"input": {"content": 5}}}',
            400,
            "invalid_request",
        ),
    ],
)
async def test_malformed_bodies_get_a_400_with_a_reason(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    fake_model: FakeOpenAI,
    body: bytes,
    status: int,
    error: str,
) -> None:
    token = token_for(new_user())
    response = await client.post(
        "/chatkit", content=body, headers={**auth(token), "Content-Type": "application/json"}
    )
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["detail"]
    listed, _ = await post(client, token, {"type": "threads.list", "params": {}})
    assert listed.json()["data"] == []
    assert fake_model.requests == []


async def test_unknown_type_names_the_type(
    client: httpx.AsyncClient, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    response = await client.post(
        "/chatkit", json={"type": "threads.explode", "params": {}}, headers=auth(token_for("x"))
    )
    assert "threads.explode" in response.json()["detail"]


async def test_body_over_the_limit_is_413_and_stores_nothing(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    fake_model: FakeOpenAI,
) -> None:
    token = token_for(new_user())
    response, _ = await post(client, token, create_thread("x" * 70_000))
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"
    listed, _ = await post(client, token, {"type": "threads.list", "params": {}})
    assert listed.json()["data"] == []
    assert fake_model.requests == []


async def test_chunked_body_over_the_limit_is_413(
    client: httpx.AsyncClient, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"x" * 1000

    response = await client.post("/chatkit", content=chunks(), headers=auth(token_for(new_user())))
    assert response.status_code == 413


async def test_message_over_the_character_limit_is_413(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    fake_model: FakeOpenAI,
) -> None:
    token = token_for(new_user())
    response, _ = await post(client, token, create_thread("y" * 2_001))
    assert response.status_code == 413
    assert "2000 characters" in response.json()["detail"]
    listed, _ = await post(client, token, {"type": "threads.list", "params": {}})
    assert listed.json()["data"] == []


async def test_quoted_text_counts_towards_the_message_limit(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    fake_model: FakeOpenAI,
) -> None:
    token = token_for(new_user())
    body = create_thread("short")
    body["params"]["input"]["quoted_text"] = "q" * 2_000
    response, _ = await post(client, token, body)
    assert response.status_code == 413
    assert fake_model.requests == []


async def test_tagged_messages_and_quotes_reach_the_model_and_later_turns_work(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    fake_model: FakeOpenAI,
) -> None:
    token = token_for(new_user())
    body = create_thread("tell me about")
    body["params"]["input"]["content"].append(
        {"type": "input_tag", "id": "t1", "text": "Groceries", "data": {}, "interactive": False}
    )
    body["params"]["input"]["quoted_text"] = "buy oat milk"
    fake_model.script(Reply(text=["Sure."]), Reply(text=["Still here."]))
    response, events = await post(client, token, body)
    assert response.status_code == 200 and assistant_texts(events) == ["Sure."]
    first = json.dumps(fake_model.requests[0]["messages"])
    assert "@Groceries" in first and "buy oat milk" in first
    _, again = await post(client, token, add_message(thread_id_of(events), "and?"))
    assert assistant_texts(again) == ["Still here."]
    assert "@Groceries" in json.dumps(fake_model.requests[1]["messages"])


async def test_unsupported_requests_get_a_400_not_a_500(
    client: httpx.AsyncClient, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    response, _ = await post(
        client,
        token_for(new_user()),
        {
            "type": "input.transcribe",
            "params": {"audio_base64": "AAAA", "mime_type": "audio/webm"},
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported"
    assert "input.transcribe" in response.json()["detail"]


async def test_retry_after_an_item_that_is_not_a_user_message_is_a_400(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    fake_model: FakeOpenAI,
) -> None:
    token = token_for(new_user())
    fake_model.script(Reply(text=["answer"]))
    _, events = await post(client, token, create_thread("q"))
    answer = next(
        e["item"]["id"]
        for e in events
        if e["type"] == "thread.item.done" and e["item"]["type"] == "assistant_message"
    )
    response, _ = await post(
        client,
        token,
        {
            "type": "threads.retry_after_item",
            "params": {"thread_id": thread_id_of(events), "item_id": answer},
        },
    )
    assert response.status_code == 400
    assert "user message" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "streams"),
    [
        (b'{"type": "threads.create", "params": {}}', True),
        (b' {\n  "type" : "threads.custom_action"}', True),
        (b'{"type":"threads.retry_after_item"}', True),
        (b'{"type": "threads.list", "params": {}}', False),
        # Only the first key can be the request's own type.
        (b'{"params": {"type": "threads.create"}, "type": "threads.list"}', False),
        (b'{"type": "threads.created"}', False),
    ],
)
def test_a_body_that_opens_with_a_streaming_type_is_seen_to_stream(
    body: bytes, streams: bool
) -> None:
    assert says_it_streams(body) is streams
