"""Tasks in the chat as widgets with buttons, over real HTTP with the scripted model: a
list turn shows exactly the caller's tasks, a change shows its card and tells the page,
and the Done/Undo buttons change the task, the widget, and nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.db.engine import create_engine
from taskchat.tasks import service
from taskchat.tasks.schemas import TaskCreate, TaskPublic
from tests.api.chatkit.test_chatkit import items_of
from tests.support.apps import app_client
from tests.support.fake_openai import FakeOpenAI, Reply, ToolCall
from tests.support.protocol import add_message, create_thread, post, thread_id_of
from tests.support.settings import scripted_settings
from tests.support.tokens import TokenFor


def widget_items(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The widget items a stream finished, in order."""
    return [
        event["item"]
        for event in events
        if event["type"] == "thread.item.done" and event["item"]["type"] == "widget"
    ]


def rows(widget: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A list widget's rows by task id."""
    assert widget["type"] == "ListView"
    return {row["key"]: row for row in widget["children"]}


def buttons(component: Any) -> list[dict[str, Any]]:
    """Every button in a widget tree."""
    if isinstance(component, list):
        return [button for child in component for button in buttons(child)]
    if not isinstance(component, dict):
        return []
    found = [component] if component.get("type") == "Button" else []
    return found + buttons(component.get("children", []))


def press(thread_id: str, item_id: str, action: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "threads.custom_action",
        "params": {"thread_id": thread_id, "item_id": item_id, "action": action},
    }


async def add(engine: AsyncEngine, user_id: str, title: str, **fields: Any) -> TaskPublic:
    data = TaskCreate(title=title, **fields)
    return await service.add_task(engine=engine, user_id=user_id, data=data)


async def with_engine(database_url: str) -> AsyncEngine:
    return create_engine(database_url, pool_size=2)


async def listed(http: httpx.AsyncClient, token: str) -> tuple[str, dict[str, Any]]:
    """A new thread whose turn lists the tasks (as scripted): its id, and the list widget."""
    _, events = await post(http, token, create_thread("list"))
    [item] = widget_items(events)
    return thread_id_of(events), item


async def times_heard_done(
    http: httpx.AsyncClient, token: str, thread_id: str, fake_model: FakeOpenAI
) -> int:
    """How often the thread's next turn tells the model a task was marked done by hand."""
    fake_model.script(Reply(text=["Nice."]))
    await post(http, token, add_message(thread_id, "done with that"))
    return str(fake_model.requests[-1]["messages"]).count("as done. (by hand")


async def test_a_list_turn_shows_exactly_the_callers_tasks_with_buttons(
    database_url: str, fake_model: FakeOpenAI, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    engine = await with_engine(database_url)
    me, stranger = new_user(), new_user()
    try:
        mine = [
            await add(engine, me, "Dentist", priority="high"),
            await add(engine, me, "Buy oat milk"),
        ]
        await add(engine, stranger, "Stranger's secret task")
    finally:
        await engine.dispose()
    fake_model.script(
        Reply(tool_calls=[ToolCall("list_tasks", {"status": "open"})]),
        Reply(text=["Here they are."]),
    )
    async with app_client(scripted_settings(database_url, fake_model)) as http:
        token = token_for(me)
        _, events = await post(http, token, create_thread("what's on my list?"))
        [item] = widget_items(events)
        listed = rows(item["widget"])
        assert set(listed) == {task.id for task in mine}
        assert "Stranger" not in str(item["widget"])
        [done, delete] = buttons(listed[mine[0].id])
        assert done["label"] == "Done"
        assert done["onClickAction"] == {
            "type": "tasks.complete",
            "payload": {"task_id": mine[0].id, "done": True},
        }
        assert delete["label"] == "Delete"
        assert delete["onClickAction"] == {
            "type": "tasks.delete",
            "payload": {"task_id": mine[0].id},
        }
        # A list changes nothing: no effect asks the page to reload.
        assert not [event for event in events if event["type"] == "client_effect"]
        # Stored like any item: there after a reload, in order before the answer.
        stored = await items_of(http, token, thread_id_of(events))
        assert [entry["type"] for entry in stored] == [
            "user_message",
            "widget",
            "assistant_message",
        ]
        # The model saw the list as text later, not the widget's JSON.
        fake_model.script(Reply(text=["Sure."]))
        await post(http, token, add_message(thread_id_of(events), "thanks"))
        later = str(fake_model.requests[-1]["messages"])
        assert f"id={mine[0].id}" in later and "onClickAction" not in later


async def test_adding_a_task_shows_its_card_and_tells_the_page(
    database_url: str, fake_model: FakeOpenAI, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    fake_model.script(
        Reply(tool_calls=[ToolCall("add_task", {"title": "Call mum", "priority": "high"})]),
        Reply(text=["Added."]),
    )
    async with app_client(scripted_settings(database_url, fake_model)) as http:
        _, events = await post(http, token_for(new_user()), create_thread("remind me to call mum"))
        [card] = widget_items(events)
        assert card["widget"]["type"] == "Card"
        assert card["widget"]["status"]["text"] == "Task added"
        assert "Call mum" in str(card["widget"])
        [effect] = [event for event in events if event["type"] == "client_effect"]
        assert effect["name"] == "tasks.changed"
        [task_id] = effect["data"]["ids"]
        assert task_id.startswith("task_") and card["copy_text"].endswith(f"id={task_id}")


async def test_done_marks_the_task_replaces_the_widget_and_a_second_press_changes_nothing(
    database_url: str, fake_model: FakeOpenAI, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    engine = await with_engine(database_url)
    me = new_user()
    try:
        task = await add(engine, me, "Water the plants")
        fake_model.script(Reply(tool_calls=[ToolCall("list_tasks", {})]), Reply(text=["One task."]))
        async with app_client(scripted_settings(database_url, fake_model)) as http:
            token = token_for(me)
            thread_id, item = await listed(http, token)
            [done, _] = buttons(item["widget"])
            calls = len(fake_model.requests)

            action = done["onClickAction"]
            _, pressed = await post(http, token, press(thread_id, item["id"], action))
            [replaced] = [e["item"] for e in pressed if e["type"] == "thread.item.replaced"]
            assert replaced["id"] == item["id"]
            [undo, _] = buttons(replaced["widget"])
            assert undo["label"] == "Undo"
            assert undo["onClickAction"]["payload"] == {"task_id": task.id, "done": False}
            assert [e["name"] for e in pressed if e["type"] == "client_effect"] == ["tasks.changed"]
            now = await service.get_task(engine=engine, user_id=me, task_id=task.id)
            assert now.done and now.completed_at is not None
            assert len(fake_model.requests) == calls, "a button press ran a model turn"

            # The same (stale) Done again: same state, no effect, no second note.
            _, again = await post(http, token, press(thread_id, item["id"], action))
            assert not [e for e in again if e["type"] in ("client_effect", "error")]
            still = await service.get_task(engine=engine, user_id=me, task_id=task.id)
            assert still.completed_at == now.completed_at
            stored = await items_of(http, token, thread_id)
            widget_now = next(entry for entry in stored if entry["type"] == "widget")
            assert buttons(widget_now["widget"])[0]["label"] == "Undo"

            # The model hears what the person did, once.
            assert await times_heard_done(http, token, thread_id, fake_model) == 1
    finally:
        await engine.dispose()


async def test_done_pressed_many_times_at_once_changes_the_task_once(
    database_url: str, fake_model: FakeOpenAI, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    engine = await with_engine(database_url)
    me = new_user()
    try:
        await add(engine, me, "Water the plants")
        fake_model.script(Reply(tool_calls=[ToolCall("list_tasks", {})]), Reply(text=["One task."]))
        # Room for every press at once under the chat limits.
        settings = scripted_settings(database_url, fake_model, chat_concurrent_streams=10)
        async with app_client(settings) as http:
            token = token_for(me)
            thread_id, item = await listed(http, token)
            [done, _] = buttons(item["widget"])
            pressed = await asyncio.gather(
                *(
                    post(http, token, press(thread_id, item["id"], done["onClickAction"]))
                    for _ in range(5)
                )
            )
            effects = [
                event["name"]
                for _, answer in pressed
                for event in answer
                if event["type"] == "client_effect"
            ]
            assert effects == ["tasks.changed"]
            # The model hears of one change, not of five.
            assert await times_heard_done(http, token, thread_id, fake_model) == 1
    finally:
        await engine.dispose()


async def test_a_rows_delete_deletes_the_task_and_leaves_the_row_without_buttons(
    database_url: str, fake_model: FakeOpenAI, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    engine = await with_engine(database_url)
    me = new_user()
    try:
        task = await add(engine, me, "Old chore")
        kept = await add(engine, me, "Keep this one")
        fake_model.script(Reply(tool_calls=[ToolCall("list_tasks", {})]), Reply(text=["Two."]))
        async with app_client(scripted_settings(database_url, fake_model)) as http:
            token = token_for(me)
            thread_id, item = await listed(http, token)
            [_, delete] = buttons(rows(item["widget"])[task.id])
            _, pressed = await post(
                http, token, press(thread_id, item["id"], delete["onClickAction"])
            )
            [replaced] = [e["item"] for e in pressed if e["type"] == "thread.item.replaced"]
            after = rows(replaced["widget"])
            assert buttons(after[task.id]) == [] and "Deleted" in str(after[task.id])
            assert len(buttons(after[kept.id])) == 2
            assert [e["name"] for e in pressed if e["type"] == "client_effect"] == ["tasks.changed"]
            remaining = await service.list_tasks(engine=engine, user_id=me, status="all")
            assert [each.id for each in remaining] == [kept.id]
    finally:
        await engine.dispose()


async def test_a_press_aimed_at_another_users_task_is_refused_and_changes_nothing(
    database_url: str, fake_model: FakeOpenAI, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    engine = await with_engine(database_url)
    me, stranger = new_user(), new_user()
    try:
        mine = await add(engine, me, "Mine")
        theirs = await add(engine, stranger, "Theirs")
        fake_model.script(Reply(tool_calls=[ToolCall("list_tasks", {})]), Reply(text=["One."]))
        async with app_client(scripted_settings(database_url, fake_model)) as http:
            token = token_for(me)
            thread_id, item = await listed(http, token)
            answers = set()
            for task_id in (theirs.id, "task_doesnotexist"):
                for action in (
                    {"type": "tasks.complete", "payload": {"task_id": task_id, "done": True}},
                    {"type": "tasks.delete", "payload": {"task_id": task_id}},
                ):
                    _, refused = await post(http, token, press(thread_id, item["id"], action))
                    [error] = [e for e in refused if e["type"] == "error"]
                    assert not [e for e in refused if e["type"] == "thread.item.replaced"]
                    answers.add(error["message"])
            # A foreign task and a missing one get the same answer, for either button.
            [answer] = answers
            assert "no longer exists" in answer
            untouched = await service.get_task(engine=engine, user_id=stranger, task_id=theirs.id)
            assert not untouched.done
            assert not (await service.get_task(engine=engine, user_id=me, task_id=mine.id)).done
    finally:
        await engine.dispose()


async def test_unknown_actions_and_bad_payloads_get_a_clear_error(
    database_url: str, fake_model: FakeOpenAI, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    engine = await with_engine(database_url)
    me = new_user()
    try:
        await add(engine, me, "Something")
    finally:
        await engine.dispose()
    fake_model.script(Reply(tool_calls=[ToolCall("list_tasks", {})]), Reply(text=["One."]))
    async with app_client(scripted_settings(database_url, fake_model)) as http:
        token = token_for(me)
        thread_id, item = await listed(http, token)
        cases: dict[str, dict[str, Any]] = {
            "unknown action": {"type": "tasks.explode", "payload": {}},
            "must be": {"type": "tasks.complete", "payload": {"task_id": 7, "done": "yes"}},
            "sent something unexpected": {"type": "tasks.complete", "payload": None},
        }
        for expected, action in cases.items():
            response, answer = await post(http, token, press(thread_id, item["id"], action))
            assert response.status_code == 200
            [error] = [e for e in answer if e["type"] == "error"]
            assert expected in error["message"] and "pydantic" not in error["message"]
        sync = {
            "type": "threads.sync_custom_action",
            "params": {"thread_id": thread_id, "item_id": item["id"], "action": {"type": "x"}},
        }
        refused = await http.post(
            "/chatkit", json=sync, headers={"Authorization": f"Bearer {token}"}
        )
        assert refused.status_code == 400 and "custom_action" in refused.json()["detail"]


async def test_a_tasks_changed_effect_follows_changes_not_lists(
    database_url: str, fake_model: FakeOpenAI, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    fake_model.script(
        Reply(tool_calls=[ToolCall("add_task", {"title": "A"}, call_id="call_add")]),
        Reply(tool_calls=[ToolCall("list_tasks", {}, call_id="call_list")]),
        Reply(text=["Done."]),
    )
    async with app_client(scripted_settings(database_url, fake_model)) as http:
        _, events = await post(http, token_for(new_user()), create_thread("add A then list"))
        shown = []
        for event in events:
            if event["type"] == "client_effect":
                shown.append(event["name"])
            elif event["type"] == "thread.item.done" and event["item"]["type"] == "widget":
                shown.append(event["item"]["widget"]["type"])
        assert shown == ["Card", "tasks.changed", "ListView"]
