"""The edges of /chatkit: text PostgreSQL cannot store, nesting, sizes, and requests the SDK
would only refuse after the stream's 200. Each gets a 400 before anything is stored."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.protocol import auth, create_thread, post, thread_id_of, titled
from tests.support.tokens import TokenFor

NUL = "\u0000"
LONE = "\ud800"  # half of a surrogate pair: not a character, and not encodable as UTF-8
LOW = "\udfff"  # the other half, alone


async def send(client: httpx.AsyncClient, token: str, body: Any) -> httpx.Response:
    """POST /chatkit with `body` as ASCII JSON (NULs and lone surrogates as escapes)."""
    return await client.post(
        "/chatkit",
        content=json.dumps(body).encode(),
        headers={**auth(token), "Content-Type": "application/json"},
    )


async def thread_count(client: httpx.AsyncClient, token: str) -> int:
    listed, _ = await post(client, token, {"type": "threads.list", "params": {}})
    return len(listed.json()["data"])


@pytest.mark.parametrize("bad", [NUL, LONE, f"ok{NUL}", f"a{LONE}b"])
async def test_a_message_postgresql_cannot_store_is_a_400_and_leaves_no_thread(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    fake_model: FakeOpenAI,
    bad: str,
) -> None:
    token = token_for(new_user())
    response = await send(client, token, create_thread(f"hello {bad}"))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_text"
    assert "params.input.content.0.text" in response.json()["detail"]
    assert await thread_count(client, token) == 0
    assert fake_model.requests == []


@dataclass(frozen=True)
class Thread:
    token: str
    id: str
    message_id: str
    """The thread's first item: the user's message."""
    answer_id: str
    """The assistant's answer to it."""


@pytest.fixture
async def thread(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    fake_model: FakeOpenAI,
) -> Thread:
    """A new user's token and their one thread."""
    token = token_for(new_user())
    fake_model.script(Reply(text=["hi"]))
    _, events = await post(client, token, create_thread("first"))
    done = [e["item"] for e in events if e["type"] == "thread.item.done"]
    message = done[0]["id"]
    answer = next(item["id"] for item in done if item["type"] == "assistant_message")
    await titled(client, token, thread_id_of(events))  # settled: nothing changes it later
    return Thread(token, thread_id_of(events), message, answer)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda t: {"type": "threads.get_by_id", "params": {"thread_id": t + NUL}}, "thread_id"),
        (lambda t: {"type": "threads.list", "params": {"after": "thr_" + LONE}}, "after"),
        (lambda t: {"type": "threads.get_by_id", "params": {"thread_id": t + LOW}}, "thread_id"),
        (
            lambda t: {"type": "items.list", "params": {"thread_id": t, "after": "x" + NUL}},
            "after",
        ),
        (
            lambda t: {"type": "threads.update", "params": {"thread_id": t, "title": LONE}},
            "title",
        ),
        (
            lambda t: {
                "type": "items.feedback",
                "params": {"thread_id": t, "item_ids": ["msg_" + NUL], "kind": "positive"},
            },
            "item_ids.0",
        ),
        (
            lambda t: {
                "type": "threads.retry_after_item",
                "params": {"thread_id": t, "item_id": "msg_" + LONE},
            },
            "item_id",
        ),
        (
            lambda t: {"type": "threads.list", "params": {}, "metadata": {"page": {"t": NUL}}},
            "metadata.page.t",
        ),
        (
            lambda t: {"type": "threads.list", "params": {}, "metadata": {NUL: 1}},
            "metadata",
        ),
    ],
)
async def test_every_field_is_checked_and_named(
    client: httpx.AsyncClient,
    thread: Thread,
    make: Callable[[str], dict[str, Any]],
    field: str,
) -> None:
    token, thread_id = thread.token, thread.id
    get = {"type": "threads.get_by_id", "params": {"thread_id": thread_id}}
    before, _ = await post(client, token, get)
    response = await send(client, token, make(thread_id))
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_text"
    assert field in response.json()["detail"]
    # The thread is as it was (its title: the one its first turn gave it).
    got, _ = await post(client, token, get)
    assert got.status_code == 200 and got.json().get("title") == before.json().get("title")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
async def test_a_body_not_in_utf8_is_a_400(
    client: httpx.AsyncClient, thread: Thread, encoding: str
) -> None:
    # json.loads would read these too, and the NUL escape in them was not seen (a 500).
    body = {"type": "threads.get_by_id", "params": {"thread_id": thread.id + NUL}}
    response = await client.post(
        "/chatkit",
        content=json.dumps(body).encode(encoding),
        headers={**auth(thread.token), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_json"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    "body",
    [
        nested(1000),
        '{"type": "threads.list", "params": {}, "metadata": {"x": ' + nested(1000) + "}}",
        '{"type": "threads.list", "params": {}, "metadata": {"x": ' + nested(70) + "}}",
    ],
)
async def test_deep_nesting_is_a_400(
    client: httpx.AsyncClient, token_for: TokenFor, body: str
) -> None:
    response = await client.post(
        "/chatkit",
        content=body.encode(),
        headers={**auth(token_for("nesting")), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "too_deep"
    assert "64" in response.json()["detail"]


async def test_moderate_nesting_is_fine(client: httpx.AsyncClient, token_for: TokenFor) -> None:
    body = '{"type": "threads.list", "params": {}, "metadata": {"x": ' + nested(40) + "}}"
    response = await client.post(
        "/chatkit",
        content=body.encode(),
        headers={**auth(token_for("nesting-ok")), "Content-Type": "application/json"},
    )
    assert response.status_code == 200


async def test_a_title_is_bounded(client: httpx.AsyncClient, thread: Thread) -> None:
    token, thread_id = thread.token, thread.id
    long = {"type": "threads.update", "params": {"thread_id": thread_id, "title": "t" * 201}}
    response = await send(client, token, long)
    assert response.status_code == 400 and "200 characters" in response.json()["detail"]
    fine = {"type": "threads.update", "params": {"thread_id": thread_id, "title": "t" * 200}}
    assert (await send(client, token, fine)).status_code == 200


async def test_tag_data_and_metadata_are_bounded(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    fake_model: FakeOpenAI,
) -> None:
    token = token_for(new_user())
    body = create_thread("tagged")
    body["params"]["input"]["content"].append(
        {"type": "input_tag", "id": "t1", "text": "Big", "data": {"blob": "x" * 5_000}}
    )
    response = await send(client, token, body)
    assert response.status_code == 413 and response.json()["error"] == "tag_too_large"
    heavy = {"type": "threads.list", "params": {}, "metadata": {"page": {"x": "y" * 20_000}}}
    response = await send(client, token, heavy)
    assert response.status_code == 413 and response.json()["error"] == "metadata_too_large"
    assert await thread_count(client, token) == 0
    assert fake_model.requests == []


async def test_feedback_ids_are_deduplicated_and_capped(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    token, thread_id, item_id = thread.token, thread.id, thread.answer_id
    many = {
        "type": "items.feedback",
        "params": {"thread_id": thread_id, "item_ids": [item_id] * 1_500, "kind": "positive"},
    }
    assert (await send(client, token, many)).status_code == 200
    distinct = [f"msg_{n}" for n in range(101)]
    too_many = {
        "type": "items.feedback",
        "params": {"thread_id": thread_id, "item_ids": distinct, "kind": "positive"},
    }
    response = await send(client, token, too_many)
    assert response.status_code == 400 and "100 items" in response.json()["detail"]


async def test_client_tool_output_with_nothing_pending_is_a_400(
    client: httpx.AsyncClient, thread: Thread, fake_model: FakeOpenAI
) -> None:
    token, thread_id = thread.token, thread.id
    body = {
        "type": "threads.add_client_tool_output",
        "params": {"thread_id": thread_id, "result": {"ok": True}},
    }
    response = await send(client, token, body)
    assert response.status_code == 400
    assert "no client tool call" in response.json()["detail"]
    assert len(fake_model.requests) == 1  # only the thread's first turn


async def test_structured_input_on_an_item_that_asks_nothing_is_a_400(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    token, thread_id, message_id = thread.token, thread.id, thread.message_id
    body = {
        "type": "threads.add_structured_input",
        "params": {
            "thread_id": thread_id,
            "item_id": message_id,
            "input": {"status": "answered", "answers": {}},
        },
    }
    response = await send(client, token, body)
    assert response.status_code == 400
    assert "not a structured input" in response.json()["detail"]


@pytest.mark.parametrize("kind", ["threads.custom_action", "threads.sync_custom_action"])
async def test_actions_on_a_message_are_a_400(
    client: httpx.AsyncClient, thread: Thread, kind: str
) -> None:
    token, thread_id, message_id = thread.token, thread.id, thread.message_id
    body = {
        "type": kind,
        "params": {
            "thread_id": thread_id,
            "item_id": message_id,
            "action": {"type": "tasks.complete", "payload": {}},
        },
    }
    response = await send(client, token, body)
    assert response.status_code == 400
    assert "widget" in response.json()["detail"]


async def test_transcription_with_bad_audio_is_a_400(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    body = {
        "type": "input.transcribe",
        "params": {"audio_base64": "not base64!!", "mime_type": "audio/webm"},
    }
    response = await send(client, token_for("transcriber"), body)
    assert response.status_code == 400
