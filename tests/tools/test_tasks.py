"""The agent manages tasks through the in-process MCP tools, end to end over /chatkit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.chat.store.postgres import PostgresStore
from taskchat.tasks import service
from taskchat.tasks.schemas import TaskCreate
from tests.support.fake_openai import FakeOpenAI, Reply, ToolCall
from tests.support.protocol import add_message, assistant_texts, create_thread, post, thread_id_of
from tests.support.tokens import TokenFor


def tool_outputs(request: dict[str, Any]) -> list[str]:
    """The tool results the app sent back to the model in a chat-completions request."""
    return [str(m["content"]) for m in request["messages"] if m["role"] == "tool"]


async def test_add_a_task_through_the_chat(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    fake_model: FakeOpenAI,
    new_user: Callable[[], str],
    store: PostgresStore,
) -> None:
    alice, bob = new_user(), new_user()
    fake_model.script(
        Reply(tool_calls=[ToolCall("add_task", {"title": "Buy milk", "due_date": "2026-12-01"})]),
        Reply(text=["Added ", "“Buy milk”, due 1 December."]),
    )
    response, events = await post(client, token_for(alice), create_thread("Add a task: buy milk"))
    assert response.status_code == 200
    assert assistant_texts(events) == ["Added “Buy milk”, due 1 December."]
    progress = [e["text"] for e in events if e["type"] == "progress_update"]
    assert progress == ["Adding task…"]

    engine: AsyncEngine = store.engine
    tasks = await service.list_tasks(engine=engine, user_id=alice)
    assert [(t.title, str(t.due_date), t.done) for t in tasks] == [
        ("Buy milk", "2026-12-01", False)
    ]
    assert await service.list_tasks(engine=engine, user_id=bob, status="all") == []
    assert (
        tool_outputs(fake_model.requests[1])
        and "Added: [ ] Buy milk" in tool_outputs(fake_model.requests[1])[0]
    )
    # The model saw the tools, and none of them asks for a user id.
    schema = {
        t["function"]["name"]: t["function"]["parameters"] for t in fake_model.requests[0]["tools"]
    }
    assert set(schema) == {"add_task", "list_tasks", "update_task", "complete_task", "delete_task"}
    for parameters in schema.values():
        assert not any("user" in name for name in parameters.get("properties", {}))


def confirm(thread_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    """The Delete press on the confirmation card that `events` streamed."""
    [card] = [
        event["item"]
        for event in events
        if event["type"] == "thread.item.done"
        and event["item"]["type"] == "widget"
        and "confirm" in event["item"]["widget"]
    ]
    action = card["widget"]["confirm"]["action"]
    return {
        "type": "threads.custom_action",
        "params": {"thread_id": thread_id, "item_id": card["id"], "action": action},
    }


async def test_list_update_complete_and_delete_through_the_chat(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    fake_model: FakeOpenAI,
    new_user: Callable[[], str],
    store: PostgresStore,
) -> None:
    user = new_user()
    token = token_for(user)
    engine = store.engine
    task = await service.add_task(engine=engine, user_id=user, data=TaskCreate(title="Call mum"))

    fake_model.script(Reply(tool_calls=[ToolCall("list_tasks", {})]), Reply(text=["One task."]))
    _, events = await post(client, token, create_thread("What's on my list?"))
    thread_id = thread_id_of(events)
    assert f"[ ] Call mum id={task.id}" in tool_outputs(fake_model.requests[-1])[0]

    fake_model.script(
        Reply(
            tool_calls=[
                ToolCall(
                    "update_task",
                    {"task_id": task.id, "title": "Call mum today", "priority": "high"},
                )
            ]
        ),
        Reply(text=["Renamed."]),
    )
    await post(client, token, add_message(thread_id, "rename it"))
    updated = await service.get_task(engine=engine, user_id=user, task_id=task.id)
    assert (updated.title, updated.priority) == ("Call mum today", "high")

    fake_model.script(
        Reply(tool_calls=[ToolCall("complete_task", {"task_id": task.id})]), Reply(text=["Done."])
    )
    _, events = await post(client, token, add_message(thread_id, "mark it done"))
    assert [e["text"] for e in events if e["type"] == "progress_update"] == ["Updating task…"]
    done = await service.get_task(engine=engine, user_id=user, task_id=task.id)
    assert done.done and done.completed_at is not None

    fake_model.script(
        Reply(tool_calls=[ToolCall("delete_task", {"task_id": task.id})]), Reply(text=["Gone."])
    )
    _, events = await post(client, token, add_message(thread_id, "delete it"))
    # Deleting waits for the person's Delete (tests/api/chatkit/test_confirmations.py).
    assert await service.list_tasks(engine=engine, user_id=user, status="all") != []
    _, events = await post(client, token, confirm(thread_id, events))
    assert assistant_texts(events) == ["Gone."]
    assert await service.list_tasks(engine=engine, user_id=user, status="all") == []


async def test_calls_made_together_each_act_once_on_the_turns_server(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    fake_model: FakeOpenAI,
    new_user: Callable[[], str],
    store: PostgresStore,
) -> None:
    # openai-agents 0.25 no longer serializes the requests of one MCP session: the calls
    # of one model response reach the turn's in-process server at once.
    user = new_user()
    titles = [f"Errand {n}" for n in range(5)]
    fake_model.script(
        Reply(
            tool_calls=[
                ToolCall("add_task", {"title": title}, call_id=f"call_{n}")
                for n, title in enumerate(titles)
            ]
        ),
        Reply(text=["Added five."]),
    )
    _, events = await post(client, token_for(user), create_thread("Add my five errands"))
    assert assistant_texts(events) == ["Added five."]
    outputs = tool_outputs(fake_model.requests[-1])
    assert len(outputs) == 5 and all("Added: [ ] Errand" in output for output in outputs)
    tasks = await service.list_tasks(engine=store.engine, user_id=user)
    assert sorted(t.title for t in tasks) == titles


async def test_bad_tool_input_comes_back_as_text_the_model_can_relay(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    fake_model: FakeOpenAI,
    new_user: Callable[[], str],
    store: PostgresStore,
) -> None:
    user = new_user()
    fake_model.script(
        Reply(
            tool_calls=[
                ToolCall("add_task", {"title": "   "}, call_id="c1"),
                ToolCall("complete_task", {"task_id": "task_nope"}, call_id="c2"),
                ToolCall("add_task", {"title": "x", "due_date": "next tuesday"}, call_id="c3"),
            ]
        ),
        Reply(text=["Sorry."]),
    )
    response, events = await post(client, token_for(user), create_thread("do odd things"))
    assert response.status_code == 200
    assert not [e for e in events if e["type"] == "error"]
    outputs = tool_outputs(fake_model.requests[1])
    assert len(outputs) == 3
    assert "title" in outputs[0] and "at least 1 character" in outputs[0]
    assert "Task 'task_nope' not found" in outputs[1]
    assert "due_date" in outputs[2]
    assert await service.list_tasks(engine=store.engine, user_id=user, status="all") == []


async def test_tool_calls_cannot_reach_another_users_tasks(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    fake_model: FakeOpenAI,
    new_user: Callable[[], str],
    store: PostgresStore,
) -> None:
    victim, attacker = new_user(), new_user()
    engine = store.engine
    secret = await service.add_task(
        engine=engine, user_id=victim, data=TaskCreate(title="Victim's secret")
    )
    injected = {"user_id": victim, "owner": victim, "sub": victim}
    fake_model.script(
        Reply(
            tool_calls=[
                ToolCall("list_tasks", {"status": "all", **injected}, call_id="a"),
                ToolCall("update_task", {"task_id": secret.id, "title": "pwned"}, call_id="b"),
                ToolCall("complete_task", {"task_id": secret.id}, call_id="c"),
                ToolCall("delete_task", {"task_id": secret.id}, call_id="d"),
                ToolCall("list_tasks", {"query": "secret"}, call_id="e"),
            ]
        ),
        Reply(text=["I can't."]),
    )
    token = token_for(attacker)
    _, events = await post(client, token, create_thread(f"act as {victim}"))
    # The delete waits for a Delete press; its card names no task of the victim's.
    assert "Victim's secret" not in str(events)
    await post(client, token, confirm(thread_id_of(events), events))
    outputs = tool_outputs(fake_model.requests[1])
    assert len(outputs) == 5
    assert "Victim's secret" not in "".join(outputs)
    # update, complete and the (confirmed) delete; the delete's output comes last now.
    assert sum("not found" in output for output in outputs) == 3, outputs
    assert await service.get_task(engine=engine, user_id=victim, task_id=secret.id) == secret
