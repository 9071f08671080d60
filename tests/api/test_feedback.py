"""👍/👎 over real HTTP: `items.feedback` on /chatkit keeps one vote per user and answer,
refuses other users' and other threads' items like missing ones, is counted in /metrics,
and GET /api/feedback reads the caller's votes back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from taskchat.chat.store.postgres import PostgresStore, chat_id
from taskchat.db.engine import user_transaction_raw
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.protocol import auth, create_thread, post, thread_id_of, titled
from tests.support.tokens import TokenFor


@dataclass(frozen=True)
class Chat:
    user: str
    token: str
    thread_id: str
    question_id: str
    answer_id: str


class MakeChat(Protocol):
    """A new user (or `user`) with one thread: a question and the model's answer."""

    async def __call__(self, user: str | None = None) -> Chat: ...


@pytest.fixture
def chat(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    fake_model: FakeOpenAI,
) -> MakeChat:
    """Makes a new user with one thread: a question and the scripted model's answer."""

    async def make(user: str | None = None) -> Chat:
        user = user or new_user()
        token = token_for(user)
        fake_model.script(Reply(text=["An answer."]))
        _, events = await post(client, token, create_thread("A question?"))
        done = [e["item"] for e in events if e["type"] == "thread.item.done"]
        thread_id = thread_id_of(events)
        await titled(client, token, thread_id)  # settled: nothing changes it later
        answer = next(item["id"] for item in done if item["type"] == "assistant_message")
        return Chat(user, token, thread_id, done[0]["id"], answer)

    return make


def feedback(thread_id: str, item_ids: list[str], kind: str) -> dict[str, Any]:
    return {
        "type": "items.feedback",
        "params": {"thread_id": thread_id, "item_ids": item_ids, "kind": kind},
    }


async def rows(store: PostgresStore, user: str) -> list[tuple[str, str, str]]:
    """The user's vote rows in the database: (thread, item, kind)."""
    async with user_transaction_raw(store.engine, user) as conn:
        found = await conn.fetch(
            "SELECT thread_id, item_id, kind FROM chat_feedback WHERE user_id = $1", user
        )
    return [(row["thread_id"], row["item_id"], row["kind"]) for row in found]


async def test_a_vote_is_kept_once_per_answer_and_a_second_click_changes_it(
    client: httpx.AsyncClient, store: PostgresStore, chat: MakeChat
) -> None:
    mine = await chat()
    first, _ = await post(
        client, mine.token, feedback(mine.thread_id, [mine.answer_id], "negative")
    )
    assert first.status_code == 200 and first.json() == {}
    assert await rows(store, mine.user) == [(mine.thread_id, mine.answer_id, "negative")]
    second, _ = await post(
        client, mine.token, feedback(mine.thread_id, [mine.answer_id], "positive")
    )
    assert second.status_code == 200
    assert await rows(store, mine.user) == [(mine.thread_id, mine.answer_id, "positive")]
    read = await client.get(
        "/api/feedback", params={"thread_id": mine.thread_id}, headers=auth(mine.token)
    )
    assert read.status_code == 200
    assert read.json() == {"data": [{"item_id": mine.answer_id, "kind": "positive"}]}


async def test_another_users_answer_is_refused_exactly_like_a_missing_one(
    client: httpx.AsyncClient, store: PostgresStore, chat: MakeChat
) -> None:
    alice = await chat()
    mallory = await chat()
    # Mallory names Alice's answer in her own thread, then in Alice's thread.
    foreign, _ = await post(
        client, mallory.token, feedback(mallory.thread_id, [alice.answer_id], "negative")
    )
    missing, _ = await post(
        client, mallory.token, feedback(mallory.thread_id, [chat_id("message")], "negative")
    )
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["error"] == missing.json()["error"] == "not_found"
    assert foreign.json()["detail"].split()[0] == missing.json()["detail"].split()[0] == "Item"
    assert alice.answer_id in foreign.json()["detail"]
    in_her_thread, _ = await post(
        client, mallory.token, feedback(alice.thread_id, [alice.answer_id], "negative")
    )
    no_thread, _ = await post(
        client, mallory.token, feedback(chat_id("thread"), [alice.answer_id], "negative")
    )
    assert in_her_thread.status_code == no_thread.status_code == 404
    assert in_her_thread.json()["detail"].split()[0] == no_thread.json()["detail"].split()[0]
    assert await rows(store, alice.user) == []
    assert await rows(store, mallory.user) == []


async def test_an_answer_of_another_thread_of_ones_own_is_refused_like_a_missing_one(
    client: httpx.AsyncClient, store: PostgresStore, chat: MakeChat
) -> None:
    first = await chat()
    second = await chat(first.user)
    response, _ = await post(
        client, first.token, feedback(second.thread_id, [first.answer_id], "positive")
    )
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert await rows(store, first.user) == []


async def test_feedback_on_a_user_message_is_a_400_that_says_why(
    client: httpx.AsyncClient, store: PostgresStore, chat: MakeChat
) -> None:
    mine = await chat()
    response, _ = await post(
        client, mine.token, feedback(mine.thread_id, [mine.answer_id, mine.question_id], "positive")
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "detail": f"Feedback is for the assistant's answers; item {mine.question_id} is a "
        "user message.",
    }
    assert await rows(store, mine.user) == []


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(client: httpx.AsyncClient) -> Samples:
    text = (await client.get("/metrics")).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_votes_recorded_or_changed_are_counted_by_kind(
    client: httpx.AsyncClient, chat: MakeChat
) -> None:
    mine = await chat()
    before = await scrape(client)
    for kind in ("negative", "negative", "positive"):
        response, _ = await post(
            client, mine.token, feedback(mine.thread_id, [mine.answer_id], kind)
        )
        assert response.status_code == 200
    refused, _ = await post(
        client, mine.token, feedback(mine.thread_id, [mine.question_id], "positive")
    )
    assert refused.status_code == 400
    after = await scrape(client)

    def grew(kind: str) -> float:
        key = ("taskchat_feedback_total", (("kind", kind),))
        return after[key] - before[key]

    # The repeated 👎 changed nothing, and the refused request kept nothing.
    assert grew("negative") == 1
    assert grew("positive") == 1


async def test_reading_votes_shows_only_the_callers_and_another_users_thread_is_missing(
    client: httpx.AsyncClient, chat: MakeChat, token_for: TokenFor
) -> None:
    alice = await chat()
    bob = await chat()
    for who, kind in ((alice, "positive"), (bob, "negative")):
        response, _ = await post(client, who.token, feedback(who.thread_id, [who.answer_id], kind))
        assert response.status_code == 200
    own = await client.get(
        "/api/feedback", params={"thread_id": bob.thread_id}, headers=auth(bob.token)
    )
    assert own.json() == {"data": [{"item_id": bob.answer_id, "kind": "negative"}]}
    foreign = await client.get(
        "/api/feedback", params={"thread_id": alice.thread_id}, headers=auth(bob.token)
    )
    missing = await client.get(
        "/api/feedback", params={"thread_id": chat_id("thread")}, headers=auth(bob.token)
    )
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["error"] == missing.json()["error"] == "not_found"
    assert foreign.json()["detail"].split()[0] == missing.json()["detail"].split()[0] == "Thread"
    # A thread with no votes yet reads as an empty list.
    fresh = await chat(alice.user)
    empty = await client.get(
        "/api/feedback", params={"thread_id": fresh.thread_id}, headers=auth(alice.token)
    )
    assert empty.json() == {"data": []}


async def test_reading_votes_needs_a_token_and_a_thread_id_it_can_store(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    token = token_for("reader")
    assert (await client.get("/api/feedback", params={"thread_id": "thr_x"})).status_code == 401
    absent = await client.get("/api/feedback", headers=auth(token))
    assert absent.status_code == 400 and absent.json()["detail"].startswith("thread_id:")
    nul = await client.get("/api/feedback?thread_id=thr%00", headers=auth(token))
    assert nul.status_code == 400 and nul.json()["error"] == "invalid_text"
    long = await client.get("/api/feedback", params={"thread_id": "t" * 101}, headers=auth(token))
    assert long.status_code == 400 and "t" * 101 not in long.text
