"""Retrying an answer (`threads.retry_after_item`), over real HTTP with the scripted model on
the real database: a retried "add milk" leaves one task however the model calls add_task
again, and its model is told what the first answer did; a different call still acts; a
confirmed delete is not done twice; another user's message cannot be retried; the record
goes with its thread; the first message's retry makes no second title call; an external
server's call is told to the retried turn's model (not made once: that is the server's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from mcp.server.mcpserver import MCPServer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.db.engine import create_engine, user_transaction
from taskchat.tasks import service
from taskchat.tasks.schemas import TaskCreate, TaskPublic
from taskchat.tools.tasks import REPEATED
from tests.support.apps import app_client
from tests.support.fake_openai import FakeOpenAI, Reply, ToolCall
from tests.support.live import LiveServer
from tests.support.protocol import (
    assistant_texts,
    auth,
    create_thread,
    post,
    thread_id_of,
    titled,
)
from tests.support.settings import scripted_settings
from tests.support.tokens import TokenFor

NOTE = "The user asked for a new answer to their last message."
"""How the retried turn's note to the model begins (chat/turn/retries.py), after its preamble."""


@pytest.fixture
async def engine(database_url: str) -> Any:
    engine = create_engine(database_url, pool_size=2)
    yield engine
    await engine.dispose()


def retry(thread_id: str, item_id: str) -> dict[str, Any]:
    return {
        "type": "threads.retry_after_item",
        "params": {"thread_id": thread_id, "item_id": item_id},
    }


def user_message_id(events: list[dict[str, Any]]) -> str:
    [item_id] = [
        event["item"]["id"]
        for event in events
        if event["type"] == "thread.item.done" and event["item"]["type"] == "user_message"
    ]
    return str(item_id)


def widgets(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        event["item"]
        for event in events
        if event["type"] == "thread.item.done" and event["item"]["type"] == "widget"
    ]


def errors(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [event for event in events if event["type"] == "error"]


def add(title: str, call_id: str = "call_1") -> ToolCall:
    return ToolCall("add_task", {"title": title}, call_id)


async def tasks(engine: AsyncEngine, user_id: str) -> list[TaskPublic]:
    return await service.list_tasks(engine=engine, user_id=user_id, status="all")


async def items(http: httpx.AsyncClient, token: str, thread_id: str) -> list[dict[str, Any]]:
    body = {"type": "items.list", "params": {"thread_id": thread_id, "order": "asc"}}
    response = await http.post("/chatkit", json=body, headers=auth(token))
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def tool_results(request: dict[str, Any]) -> list[str]:
    """What the tools answered, as a model request carries it."""
    return [str(m["content"]) for m in request["messages"] if m["role"] == "tool"]


async def test_a_retried_add_leaves_exactly_one_task(
    database_url: str,
    engine: AsyncEngine,
    fake_model: FakeOpenAI,
    token_for: TokenFor,
    new_user: Callable[[], str],
) -> None:
    me = new_user()
    async with app_client(scripted_settings(database_url, fake_model)) as http:
        token = token_for(me)
        fake_model.script(Reply(tool_calls=[add("Buy milk")]), Reply(text=["Added it."]))
        _, first = await post(http, token, create_thread("add milk"))
        thread_id, message_id = thread_id_of(first), user_message_id(first)
        [milk] = await tasks(engine, me)
        assert milk.title == "Buy milk"

        # Asked again, the model calls add_task again, exactly as it did the first time.
        fake_model.script(Reply(tool_calls=[add("Buy milk")]), Reply(text=["Milk is on it."]))
        response, again = await post(http, token, retry(thread_id, message_id))
        assert response.status_code == 200 and not errors(again), again
        assert await tasks(engine, me) == [milk]
        # The model got the first call's result, saying that nothing was done now.
        [result] = tool_results(fake_model.requests[-1])
        assert REPEATED in result and milk.id in result
        # The person sees the task's card again, and the new answer in place of the old.
        [card] = widgets(again)
        assert milk.title in str(card["widget"])
        assert assistant_texts(again) == ["Milk is on it."]
        kept = await items(http, token, thread_id)
        assert [item["type"] for item in kept] == ["user_message", "widget", "assistant_message"]
        assert kept[0]["id"] == message_id
        assert "Added it." not in str(kept)

        # And once more: still the one task.
        fake_model.script(Reply(tool_calls=[add("Buy milk")]), Reply(text=["Done."]))
        await post(http, token, retry(thread_id, message_id))
        assert await tasks(engine, me) == [milk]


async def test_the_retried_turn_is_told_what_the_first_answer_did(
    database_url: str,
    engine: AsyncEngine,
    fake_model: FakeOpenAI,
    token_for: TokenFor,
    new_user: Callable[[], str],
) -> None:
    me = new_user()
    async with app_client(scripted_settings(database_url, fake_model)) as http:
        token = token_for(me)
        fake_model.script(Reply(tool_calls=[add("Buy milk")]), Reply(text=["Added it."]))
        _, first = await post(http, token, create_thread("add milk"))
        thread_id, message_id = thread_id_of(first), user_message_id(first)
        [milk] = await tasks(engine, me)
        assert NOTE not in str(fake_model.requests)

        fake_model.script(Reply(text=["It is on your list already."]))
        _, again = await post(http, token, retry(thread_id, message_id))
        assert assistant_texts(again) == ["It is on your list already."]
        # The retried turn's input: the message, then what its earlier answer did.
        *_, asked, note = fake_model.requests[-1]["messages"]
        assert asked["role"] == "user" and "add milk" in str(asked["content"])
        assert note["role"] == "user" and NOTE in note["content"]
        assert "add_task" in note["content"] and f"Added: {milk.summary()}" in note["content"]
        # Seen by the model only: the thread holds the message and the new answer.
        kept = await items(http, token, thread_id)
        assert [item["type"] for item in kept] == ["user_message", "assistant_message"]
        assert NOTE not in str(kept)


async def test_a_different_call_still_acts_and_identical_calls_count(
    database_url: str,
    engine: AsyncEngine,
    fake_model: FakeOpenAI,
    token_for: TokenFor,
    new_user: Callable[[], str],
) -> None:
    me = new_user()
    async with app_client(scripted_settings(database_url, fake_model)) as http:
        token = token_for(me)
        # Two of the same, asked for in one message: both are made.
        fake_model.script(
            Reply(tool_calls=[add("Buy milk", "c1"), add("Buy milk", "c2")]),
            Reply(text=["Added two."]),
        )
        _, first = await post(http, token, create_thread("add milk twice"))
        thread_id, message_id = thread_id_of(first), user_message_id(first)
        assert [task.title for task in await tasks(engine, me)] == ["Buy milk", "Buy milk"]

        # The retry makes the same two (nothing new), and one that was not made before.
        fake_model.script(
            Reply(tool_calls=[add("Buy milk", "c1"), add("Buy milk", "c2"), add("Buy eggs", "c3")]),
            Reply(text=["Added."]),
        )
        _, again = await post(http, token, retry(thread_id, message_id))
        assert not errors(again), again
        assert sorted(task.title for task in await tasks(engine, me)) == [
            "Buy eggs",
            "Buy milk",
            "Buy milk",
        ]
        results = tool_results(fake_model.requests[-1])
        assert [REPEATED in result for result in results] == [True, True, False]


async def test_a_confirmed_delete_is_not_done_again_by_a_retry(
    database_url: str,
    engine: AsyncEngine,
    fake_model: FakeOpenAI,
    token_for: TokenFor,
    new_user: Callable[[], str],
) -> None:
    me = new_user()
    dentist = await service.add_task(engine=engine, user_id=me, data=TaskCreate(title="Dentist"))
    keep = await service.add_task(engine=engine, user_id=me, data=TaskCreate(title="Keep me"))
    delete = ToolCall("delete_task", {"task_id": dentist.id})

    async def confirm(thread_id: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        [card] = [item for item in widgets(events) if "confirm" in item["widget"]]
        action = card["widget"]["confirm"]["action"]
        body = {
            "type": "threads.custom_action",
            "params": {"thread_id": thread_id, "item_id": card["id"], "action": action},
        }
        _, pressed = await post(http, token, body)
        assert not errors(pressed), pressed
        return pressed

    async with app_client(scripted_settings(database_url, fake_model)) as http:
        token = token_for(me)
        fake_model.script(Reply(tool_calls=[delete]), Reply(text=["Deleted."]))
        _, first = await post(http, token, create_thread("delete the dentist"))
        thread_id, message_id = thread_id_of(first), user_message_id(first)
        # The turn resumed after the confirmation still deletes, and is kept for its message.
        await confirm(thread_id, first)
        assert await tasks(engine, me) == [keep]
        [deleted] = tool_results(fake_model.requests[-1])
        assert REPEATED not in deleted and "Deleted: Dentist" in deleted

        # Retried, the model deletes again: confirmed, the first result comes back (not a
        # "not found" from a second delete).
        fake_model.script(Reply(tool_calls=[delete]), Reply(text=["Gone."]))
        _, again = await post(http, token, retry(thread_id, message_id))
        pressed = await confirm(thread_id, again)
        [result] = tool_results(fake_model.requests[-1])
        assert REPEATED in result and "Deleted: Dentist" in result and "not found" not in result
        assert assistant_texts(pressed) == ["Gone."]
        assert await tasks(engine, me) == [keep]


async def test_another_users_message_cannot_be_retried(
    database_url: str,
    engine: AsyncEngine,
    fake_model: FakeOpenAI,
    token_for: TokenFor,
    new_user: Callable[[], str],
) -> None:
    alice, bob = new_user(), new_user()
    async with app_client(scripted_settings(database_url, fake_model)) as http:
        fake_model.script(Reply(tool_calls=[add("Buy milk")]), Reply(text=["Added it."]))
        _, first = await post(http, token_for(alice), create_thread("add milk"))
        thread_id, message_id = thread_id_of(first), user_message_id(first)
        before = await items(http, token_for(alice), thread_id)
        fake_model.script(Reply(text=["Bob's own."]))
        _, own = await post(http, token_for(bob), create_thread("hello"))
        asked = len(fake_model.requests)

        fake_model.script(Reply(tool_calls=[add("Buy milk")]), Reply(text=["Hijacked."]))
        for body in (retry(thread_id, message_id), retry(thread_id_of(own), message_id)):
            response, _ = await post(http, token_for(bob), body)
            assert response.status_code == 404, response.text
            assert response.json()["error"] == "not_found"
        # Nothing ran, nothing changed.
        assert len(fake_model.requests) == asked
        assert await items(http, token_for(alice), thread_id) == before
        assert [task.title for task in await tasks(engine, alice)] == ["Buy milk"]
        assert await tasks(engine, bob) == []


async def count_calls(engine: AsyncEngine, user_id: str, thread_id: str) -> int:
    async with user_transaction(engine, user_id) as conn:
        found = await conn.scalar(
            text("SELECT count(*) FROM chat_tool_calls WHERE thread_id = :thread"),
            {"thread": thread_id},
        )
    return int(found or 0)


async def test_the_record_of_calls_goes_with_its_thread(
    database_url: str,
    engine: AsyncEngine,
    fake_model: FakeOpenAI,
    token_for: TokenFor,
    new_user: Callable[[], str],
) -> None:
    me = new_user()
    async with app_client(scripted_settings(database_url, fake_model)) as http:
        token = token_for(me)
        fake_model.script(Reply(tool_calls=[add("Buy milk")]), Reply(text=["Added it."]))
        _, first = await post(http, token, create_thread("add milk"))
        thread_id = thread_id_of(first)
        assert await count_calls(engine, me, thread_id) == 1
        body = {"type": "threads.delete", "params": {"thread_id": thread_id}}
        response = await http.post("/chatkit", json=body, headers=auth(token))
        assert response.status_code == 200
        assert await count_calls(engine, me, thread_id) == 0
        # The task itself stays: it is the person's, not the conversation's.
        assert [task.title for task in await tasks(engine, me)] == ["Buy milk"]


async def test_retrying_the_first_message_makes_no_second_title_call(
    database_url: str, fake_model: FakeOpenAI, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    fake_model.titles.append("Milk shopping")
    fake_model.script(Reply(text=["Sure."]))
    async with app_client(scripted_settings(database_url, fake_model)) as http:
        token = token_for(new_user())
        _, first = await post(http, token, create_thread("add milk"))
        thread_id = thread_id_of(first)
        assert await titled(http, token, thread_id) == "Milk shopping"

        fake_model.script(Reply(text=["Again."]))
        _, again = await post(http, token, retry(thread_id, user_message_id(first)))
        assert assistant_texts(again) == ["Again."]
        assert len(fake_model.title_requests) == 1
        assert await titled(http, token, thread_id) == "Milk shopping"


@pytest.fixture
def calendar() -> Any:
    """An external MCP server (streamable HTTP) whose one tool counts its calls."""
    made: list[str] = []
    server: MCPServer[Any] = MCPServer(name="calendar", log_level="WARNING")

    @server.tool()
    async def create_event(title: str) -> str:
        """Put an event in the calendar."""
        made.append(title)
        return f"Created event {title!r} (#{len(made)})"

    live = LiveServer(server.streamable_http_app(streamable_http_path="/mcp", stateless_http=True))
    live.start()
    yield live, made
    live.stop()


async def test_an_external_call_is_told_to_the_retried_turn(
    database_url: str,
    fake_model: FakeOpenAI,
    token_for: TokenFor,
    new_user: Callable[[], str],
    calendar: tuple[LiveServer, list[str]],
) -> None:
    live, made = calendar
    settings = scripted_settings(
        database_url, fake_model, mcp_servers=[{"name": "calendar", "url": f"{live.url}/mcp"}]
    )
    async with app_client(settings) as http:
        token = token_for(new_user())
        fake_model.script(
            Reply(tool_calls=[ToolCall("create_event", {"title": "Dentist"})]),
            Reply(text=["Booked."]),
        )
        _, first = await post(http, token, create_thread("book the dentist"))
        assert made == ["Dentist"]

        fake_model.script(Reply(text=["It is booked already."]))
        _, again = await post(http, token, retry(thread_id_of(first), user_message_id(first)))
        assert assistant_texts(again) == ["It is booked already."]
        note = fake_model.requests[-1]["messages"][-1]["content"]
        assert NOTE in note
        assert 'calendar.create_event {"title": "Dentist"}' in note
        assert "Created event 'Dentist' (#1)" in note
        assert made == ["Dentist"]
