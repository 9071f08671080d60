"""Every ChatKit request aimed at another user's ids answers as for a missing id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from taskchat.chat.store.postgres import PostgresStore, chat_id
from taskchat.context import RequestContext
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.protocol import add_message, create_thread, post, thread_id_of, titled
from tests.support.tokens import TokenFor


def requests_for(thread_id: str, item_id: str, attachment_id: str) -> dict[str, dict[str, Any]]:
    """One request of every type that names a thread, item or attachment."""
    return {
        "threads.get_by_id": {"type": "threads.get_by_id", "params": {"thread_id": thread_id}},
        "items.list": {"type": "items.list", "params": {"thread_id": thread_id}},
        "threads.update": {
            "type": "threads.update",
            "params": {"thread_id": thread_id, "title": "pwned"},
        },
        "threads.delete": {"type": "threads.delete", "params": {"thread_id": thread_id}},
        "items.feedback": {
            "type": "items.feedback",
            "params": {"thread_id": thread_id, "item_ids": [item_id], "kind": "positive"},
        },
        "threads.add_user_message": add_message(thread_id, "hello from elsewhere"),
        "threads.retry_after_item": {
            "type": "threads.retry_after_item",
            "params": {"thread_id": thread_id, "item_id": item_id},
        },
        "threads.add_client_tool_output": {
            "type": "threads.add_client_tool_output",
            "params": {"thread_id": thread_id, "result": {"ok": True}},
        },
        "threads.custom_action": {
            "type": "threads.custom_action",
            "params": {"thread_id": thread_id, "item_id": item_id, "action": {"type": "x"}},
        },
        "threads.add_structured_input": {
            "type": "threads.add_structured_input",
            "params": {
                "thread_id": thread_id,
                "item_id": item_id,
                "input": {"status": "answered", "answers": {}},
            },
        },
        "threads.create with an attachment": {
            "type": "threads.create",
            "params": {
                "input": {
                    "content": [{"type": "input_text", "text": "see attached"}],
                    "attachments": [attachment_id],
                    "inference_options": {},
                }
            },
        },
        "attachments.delete": {
            "type": "attachments.delete",
            "params": {"attachment_id": attachment_id},
        },
    }


@pytest.fixture
async def victim(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    fake_model: FakeOpenAI,
    new_user: Callable[[], str],
    store: PostgresStore,
) -> dict[str, Any]:
    """Alice's thread with a message and an answer, and an attachment of hers."""
    from chatkit.types import FileAttachment

    user = new_user()
    fake_model.script(Reply(text=["Alice's answer"]))
    _, events = await post(client, token_for(user), create_thread("alice's secret"))
    thread_id = thread_id_of(events)
    await titled(client, token_for(user), thread_id)  # settled: nothing changes it later
    context = RequestContext(user_id=user)
    items = (await store.load_thread_items(thread_id, None, 10, "asc", context)).data
    attachment = FileAttachment(id=chat_id("attachment"), name="a.txt", mime_type="text/plain")
    await store.save_attachment(attachment, context)
    fake_model.requests.clear()
    return {
        "user": user,
        "thread_id": thread_id,
        "item_id": items[0].id,
        "attachment_id": attachment.id,
        "items": items,
    }


async def test_foreign_ids_answer_exactly_like_missing_ids(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    fake_model: FakeOpenAI,
    new_user: Callable[[], str],
    victim: dict[str, Any],
    store: PostgresStore,
) -> None:
    mallory = token_for(new_user())
    context = RequestContext(user_id=victim["user"])
    title = (await store.load_thread(victim["thread_id"], context)).title
    foreign = requests_for(victim["thread_id"], victim["item_id"], victim["attachment_id"])
    missing = requests_for(chat_id("thread"), chat_id("message"), chat_id("attachment"))
    for kind in foreign:
        got_foreign, _ = await post(client, mallory, foreign[kind])
        got_missing, _ = await post(client, mallory, missing[kind])
        assert got_foreign.status_code == got_missing.status_code == 404, (kind, got_foreign.text)
        shape = got_foreign.json()
        assert shape["error"] == got_missing.json()["error"] == "not_found", kind
        # Same message apart from the id itself.
        assert shape["detail"].split()[0] == got_missing.json()["detail"].split()[0], kind
    assert fake_model.requests == []

    thread = await store.load_thread(victim["thread_id"], context)
    assert thread.title == title
    after = (await store.load_thread_items(victim["thread_id"], None, 10, "asc", context)).data
    assert after == victim["items"]
    assert (await store.load_attachment(victim["attachment_id"], context)).id == victim[
        "attachment_id"
    ]


async def test_threads_list_shows_only_the_callers_threads(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    victim: dict[str, Any],
) -> None:
    mallory = token_for(new_user())
    response, _ = await post(client, mallory, {"type": "threads.list", "params": {}})
    assert response.status_code == 200 and response.json()["data"] == []
    owner, _ = await post(client, token_for(victim["user"]), {"type": "threads.list", "params": {}})
    assert [t["id"] for t in owner.json()["data"]] == [victim["thread_id"]]


async def test_owner_can_use_every_request_on_their_own_thread(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    fake_model: FakeOpenAI,
    victim: dict[str, Any],
) -> None:
    token = token_for(victim["user"])
    got, _ = await post(
        client, token, {"type": "threads.get_by_id", "params": {"thread_id": victim["thread_id"]}}
    )
    assert got.status_code == 200 and len(got.json()["items"]["data"]) == 2
    renamed, _ = await post(
        client,
        token,
        {"type": "threads.update", "params": {"thread_id": victim["thread_id"], "title": "Mine"}},
    )
    assert renamed.json()["title"] == "Mine"
    answer = victim["items"][1]
    assert answer.type == "assistant_message"
    feedback, _ = await post(
        client,
        token,
        {
            "type": "items.feedback",
            "params": {
                "thread_id": victim["thread_id"],
                "item_ids": [answer.id],
                "kind": "positive",
            },
        },
    )
    assert feedback.status_code == 200
    fake_model.script(Reply(text=["Second try"]))
    retried, _ = await post(
        client,
        token,
        {
            "type": "threads.retry_after_item",
            "params": {"thread_id": victim["thread_id"], "item_id": victim["item_id"]},
        },
    )
    assert retried.status_code == 200
    listed, _ = await post(
        client,
        token,
        {"type": "items.list", "params": {"thread_id": victim["thread_id"], "order": "asc"}},
    )
    kept = [(i["type"], i["id"]) for i in listed.json()["data"]]
    # The old answer is gone, the user message is there once, and the new answer follows it.
    assert kept[0] == ("user_message", victim["item_id"])
    assert [t for t, _ in kept] == ["user_message", "assistant_message"]
    assert kept[1][1] != victim["items"][1].id
    assert "Second try" in listed.text and "Alice's answer" not in listed.text
    deleted, _ = await post(
        client,
        token,
        {"type": "attachments.delete", "params": {"attachment_id": victim["attachment_id"]}},
    )
    assert deleted.status_code == 200
    gone, _ = await post(
        client, token, {"type": "threads.delete", "params": {"thread_id": victim["thread_id"]}}
    )
    assert gone.status_code == 200
    again, _ = await post(
        client, token, {"type": "threads.get_by_id", "params": {"thread_id": victim["thread_id"]}}
    )
    assert again.status_code == 404
