"""POST /chatkit end to end: uvicorn, real JWTs, PostgreSQL, the scripted model."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx

from taskchat.chat.store.postgres import PostgresStore
from taskchat.chat.turn.events import CUT_OFF_NOTE
from taskchat.context import RequestContext
from tests.support.apps import app_client
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.protocol import (
    add_message,
    aiter_events,
    assistant_texts,
    auth,
    create_thread,
    post,
    thread_id_of,
)
from tests.support.settings import scripted_settings
from tests.support.tokens import TokenFor


async def items_of(client: httpx.AsyncClient, token: str, thread_id: str) -> list[dict[str, Any]]:
    response, _ = await post(
        client,
        token,
        {"type": "items.list", "params": {"thread_id": thread_id, "limit": 100, "order": "asc"}},
    )
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def text_of(item: dict[str, Any]) -> str:
    content = item.get("content", [])
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content)


def texts(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(item["type"], text_of(item)) for item in items]


async def test_streams_sse_with_the_right_headers(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    fake_model: FakeOpenAI,
    new_user: Callable[[], str],
) -> None:
    fake_model.script(Reply(text=["Hello", " there"]))
    response, events = await post(client, token_for(new_user()), create_thread("hi"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert [e["type"] for e in events][:3] == [
        "thread.created",
        "thread.item.done",
        "stream_options",
    ]
    assert assistant_texts(events) == ["Hello there"]


async def test_two_turns_the_second_sees_the_first(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    fake_model: FakeOpenAI,
    new_user: Callable[[], str],
) -> None:
    token = token_for(new_user(), name="Ayesha")
    fake_model.script(Reply(text=["Noted: ", "milk."]), Reply(text=["You said milk."]))
    _, first = await post(client, token, create_thread("Remember milk"))
    thread_id = thread_id_of(first)
    _, second = await post(client, token, add_message(thread_id, "What did I say?"))
    assert assistant_texts(second) == ["You said milk."]

    messages = fake_model.requests[1]["messages"]
    conversation = [(m["role"], m["content"]) for m in messages if m["role"] != "system"]
    flat = json.dumps(conversation)
    assert "Remember milk" in flat and "Noted: milk." in flat and "What did I say?" in flat
    assert [role for role, _ in conversation] == ["user", "assistant", "user"]
    system = next(m["content"] for m in messages if m["role"] == "system")
    assert "Ayesha" in system

    items = await items_of(client, token, thread_id)
    assert texts(items) == [
        ("user_message", "Remember milk"),
        ("assistant_message", "Noted: milk."),
        ("user_message", "What did I say?"),
        ("assistant_message", "You said milk."),
    ]
    assert len({item["id"] for item in items}) == 4


async def test_every_message_gets_a_store_id_not_the_providers_fake_id(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    fake_model: FakeOpenAI,
    new_user: Callable[[], str],
) -> None:
    token = token_for(new_user())
    fake_model.script(Reply(text=["one"]), Reply(text=["two"]))
    _, first = await post(client, token, create_thread("a"))
    thread_id = thread_id_of(first)
    await post(client, token, add_message(thread_id, "b"))
    items = await items_of(client, token, thread_id)
    ids = [item["id"] for item in items]
    assert all(i.startswith("msg_") and "fake" not in i for i in ids)
    assert texts(items)[1::2] == [("assistant_message", "one"), ("assistant_message", "two")]


async def test_model_5xx_becomes_an_error_event_and_keeps_the_message_once(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    fake_model: FakeOpenAI,
    new_user: Callable[[], str],
) -> None:
    token = token_for(new_user())
    fake_model.script(Reply(status=500))
    response, events = await post(client, token, create_thread("will fail"))
    assert response.status_code == 200
    errors = [e for e in events if e["type"] == "error"]
    assert len(errors) == 1 and "HTTP 500" in errors[0]["message"] and errors[0]["allow_retry"]
    items = await items_of(client, token, thread_id_of(events))
    assert texts(items) == [("user_message", "will fail")]


async def test_a_stream_that_breaks_off_keeps_the_partial_answer(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    fake_model: FakeOpenAI,
    new_user: Callable[[], str],
) -> None:
    token = token_for(new_user())
    # The delay lets each chunk reach the app before the break: the Agents SDK drops
    # events still queued when the model stream raises.
    fake_model.script(Reply(text=["Half ", "an ", "answer"], break_after=2, chunk_delay=0.05))
    response, events = await post(client, token, create_thread("break please"))
    assert response.status_code == 200
    errors = [e for e in events if e["type"] == "error"]
    assert len(errors) == 1 and errors[0]["message"]
    items = await items_of(client, token, thread_id_of(events))
    assert texts(items) == [
        ("user_message", "break please"),
        ("assistant_message", "Half an " + CUT_OFF_NOTE),
    ]

    # The thread still works afterwards.
    fake_model.script(Reply(text=["Back again."]))
    _, again = await post(client, token, add_message(thread_id_of(events), "retry"))
    assert assistant_texts(again) == ["Back again."]


async def test_client_disconnect_keeps_the_partial_answer(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    fake_model: FakeOpenAI,
    new_user: Callable[[], str],
    store: PostgresStore,
) -> None:
    user = new_user()
    token = token_for(user)
    fake_model.script(Reply(text=["Partial ", "answer ", "never sent"], hold_after=2))
    thread_id = ""
    seen = ""
    async with client.stream(
        "POST", "/chatkit", json=create_thread("long one"), headers=auth(token)
    ) as response:
        async for event in aiter_events(response):
            if event["type"] == "thread.created":
                thread_id = event["thread"]["id"]
            if event["type"] == "thread.item.updated":
                seen += event["update"].get("delta", "")
            if seen == "Partial answer ":
                break  # leaving the block closes the connection mid-answer
    context = RequestContext(user_id=user)
    stored: list[tuple[str, str]] = []
    for _ in range(100):
        page = await store.load_thread_items(thread_id, None, 50, "asc", context)
        stored = texts([item.model_dump() for item in page.data])
        if len(stored) >= 3:
            break
        await asyncio.sleep(0.05)
    fake_model.release.set()
    assert stored[:2] == [
        ("user_message", "long one"),
        ("assistant_message", "Partial answer " + CUT_OFF_NOTE),
    ]
    assert stored[2][0] == "sdk_hidden_context"


async def test_no_model_configured_answers_with_what_to_set(
    database_url: str, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    from tests.support.settings import make_settings

    settings = make_settings(database_url, openai_api_key=None, model_provider="openai")
    async with app_client(settings) as http:
        token = token_for(new_user())
        response, events = await post(http, token, create_thread("hello?"))
        assert response.status_code == 200
        errors = [e for e in events if e["type"] == "error"]
        assert len(errors) == 1 and "OPENAI_API_KEY" in errors[0]["message"]
        listed, _ = await post(http, token, {"type": "threads.list", "params": {}})
        assert len(listed.json()["data"]) == 1


async def test_openai_responses_provider_two_turns(
    database_url: str, fake_model: FakeOpenAI, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    """The default provider (OpenAI's Responses API) through the same scripted server."""
    from tests.support.settings import make_settings

    settings = make_settings(
        database_url,
        model_provider="openai",
        openai_api_key="test-key",
        model_base_url=fake_model.base_url,
        model_max_retries=0,
    )
    fake_model.script(Reply(text=["Hello ", "from Responses"]), Reply(text=["Again"]))
    async with app_client(settings) as http:
        token = token_for(new_user())
        _, first = await post(http, token, create_thread("first"))
        assert assistant_texts(first) == ["Hello from Responses"]
        thread_id = thread_id_of(first)
        _, second = await post(http, token, add_message(thread_id, "second"))
        assert assistant_texts(second) == ["Again"]
        items = await items_of(http, token, thread_id)
    assert "input" in fake_model.requests[1]
    sent = json.dumps(fake_model.requests[1]["input"])
    assert "first" in sent and "Hello from Responses" in sent and "second" in sent
    assert [t for _, t in texts(items)] == ["first", "Hello from Responses", "second", "Again"]


async def test_a_model_that_times_out_becomes_an_error_event(
    database_url: str, fake_model: FakeOpenAI, token_for: TokenFor, new_user: Callable[[], str]
) -> None:

    settings = scripted_settings(database_url, fake_model, model_timeout_seconds=0.5)
    fake_model.script(Reply(text=["never"], hold_after=0))
    async with app_client(settings) as http:
        token = token_for(new_user())
        response, events = await post(http, token, create_thread("slow?"))
        fake_model.release.set()
        assert response.status_code == 200
        errors = [e for e in events if e["type"] == "error"]
        assert len(errors) == 1 and "too long" in errors[0]["message"]
        items = await items_of(http, token, thread_id_of(events))
    assert texts(items) == [("user_message", "slow?")]
