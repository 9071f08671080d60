"""Confirm before destroying, over real HTTP with the scripted model: a delete_task call
pauses the turn on a card; Delete runs it and the agent goes on, Keep leaves the task and
tells the agent; a second press, a press after expiry or by someone else does nothing; and
the paused turn survives a restart of the app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.chat.confirmations.cards import CARD_GONE, DECLINED_MESSAGE
from taskchat.db.engine import create_engine, user_transaction
from taskchat.tasks import service
from taskchat.tasks.schemas import TaskCreate, TaskPublic
from taskchat.tasks.service import TaskNotFoundError
from tests.support.apps import app_client
from tests.support.fake_openai import FakeOpenAI, Reply, ToolCall
from tests.support.protocol import add_message, create_thread, post, thread_id_of
from tests.support.settings import scripted_settings
from tests.support.tokens import TokenFor


@pytest.fixture
async def engine(database_url: str) -> Any:
    engine = create_engine(database_url, pool_size=2)
    yield engine
    await engine.dispose()


def widgets(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        event["item"]
        for event in events
        if event["type"] == "thread.item.done" and event["item"]["type"] == "widget"
    ]


def answer(thread_id: str, card: dict[str, Any], button: str) -> dict[str, Any]:
    """The request a card's Delete ("confirm") or Keep ("cancel") button sends."""
    return {
        "type": "threads.custom_action",
        "params": {
            "thread_id": thread_id,
            "item_id": card["id"],
            "action": card["widget"][button]["action"],
        },
    }


async def exists(engine: AsyncEngine, user_id: str, task: TaskPublic) -> bool:
    try:
        await service.get_task(engine=engine, user_id=user_id, task_id=task.id)
    except TaskNotFoundError:
        return False
    return True


async def paused_delete(
    http: Any, token: str, fake_model: FakeOpenAI, task: TaskPublic
) -> tuple[str, dict[str, Any]]:
    """A turn whose model deletes `task`, after an earlier exchange in the same thread (the
    paused run's history then holds an answer of the assistant): its thread and the card."""
    fake_model.script(Reply(text=["Hello."]))
    _, first = await post(http, token, create_thread("hi"))
    fake_model.script(
        Reply(tool_calls=[ToolCall("delete_task", {"task_id": task.id})]),
        Reply(text=["It is gone."]),
    )
    thread_id = thread_id_of(first)
    _, events = await post(http, token, add_message(thread_id, "delete the dentist task"))
    [card] = [item for item in widgets(events) if "confirm" in item["widget"]]
    assert card["widget"]["confirm"]["label"] == "Delete"
    assert card["widget"]["cancel"]["label"] == "Keep"
    assert f"Delete {task.title!r}?" in str(card["widget"])
    assert not [event for event in events if event["type"] == "error"], events
    return thread_id, card


async def test_delete_waits_for_the_click_then_runs_and_the_agent_goes_on(
    database_url: str,
    engine: AsyncEngine,
    fake_model: FakeOpenAI,
    token_for: TokenFor,
    new_user: Callable[[], str],
) -> None:
    me = new_user()
    task = await service.add_task(engine=engine, user_id=me, data=TaskCreate(title="Dentist"))
    async with app_client(scripted_settings(database_url, fake_model)) as http:
        token = token_for(me)
        thread_id, card = await paused_delete(http, token, fake_model, task)
        # Paused: the task is there, and the model was asked once (no answer yet).
        assert await exists(engine, me, task)
        assert len(fake_model.requests) == 2

        _, pressed = await post(http, token, answer(thread_id, card, "confirm"))
        assert not await exists(engine, me, task)
        [replaced] = [e["item"] for e in pressed if e["type"] == "thread.item.replaced"]
        assert replaced["id"] == card["id"] and "confirm" not in replaced["widget"]
        assert replaced["widget"]["status"]["text"] == "Confirmed"
        # The agent went on: the tool's result reached the model, and its answer streamed.
        assert len(fake_model.requests) == 3
        texts = [
            e["item"]["content"][0]["text"]
            for e in pressed
            if e["type"] == "thread.item.done" and e["item"]["type"] == "assistant_message"
        ]
        assert texts == ["It is gone."]
        assert [e["name"] for e in pressed if e["type"] == "client_effect"] == ["tasks.changed"]

        # Again: nothing runs, the person is told.
        _, again = await post(http, token, answer(thread_id, card, "confirm"))
        assert len(fake_model.requests) == 3
        assert [e["message"] for e in again if e["type"] == "notice"] == [
            "This was already confirmed."
        ]


async def test_keep_leaves_the_task_for_good_and_tells_the_agent(
    database_url: str,
    engine: AsyncEngine,
    fake_model: FakeOpenAI,
    token_for: TokenFor,
    new_user: Callable[[], str],
) -> None:
    me = new_user()
    task = await service.add_task(engine=engine, user_id=me, data=TaskCreate(title="Dentist"))
    async with app_client(scripted_settings(database_url, fake_model)) as http:
        token = token_for(me)
        thread_id, card = await paused_delete(http, token, fake_model, task)
        _, kept = await post(http, token, answer(thread_id, card, "cancel"))
        assert await exists(engine, me, task)
        assert DECLINED_MESSAGE in str(fake_model.requests[-1]["messages"])
        [replaced] = [e["item"] for e in kept if e["type"] == "thread.item.replaced"]
        assert replaced["widget"]["status"]["text"].startswith("Kept")
        assert [
            e["item"]["content"][0]["text"]
            for e in kept
            if e["type"] == "thread.item.done" and e["item"]["type"] == "assistant_message"
        ] == ["It is gone."], kept  # (the reply scripted next; the model wrote it anyway)
        # Delete after Keep: nothing runs, the task stays.
        calls = len(fake_model.requests)
        await post(http, token, answer(thread_id, card, "confirm"))
        assert await exists(engine, me, task)
        assert len(fake_model.requests) == calls


async def test_after_expiry_or_by_someone_else_a_press_does_nothing(
    database_url: str,
    engine: AsyncEngine,
    fake_model: FakeOpenAI,
    token_for: TokenFor,
    new_user: Callable[[], str],
) -> None:
    me, stranger = new_user(), new_user()
    task = await service.add_task(engine=engine, user_id=me, data=TaskCreate(title="Dentist"))
    async with app_client(scripted_settings(database_url, fake_model)) as http:
        token = token_for(me)
        thread_id, card = await paused_delete(http, token, fake_model, task)
        calls = len(fake_model.requests)
        # Someone else, with the approval's id, in their own thread: nothing is waiting.
        _, other = await post(http, token_for(stranger), create_thread("hello"))
        foreign = answer(thread_id_of(other), card, "confirm")
        foreign["params"].pop("item_id")
        _, refused = await post(http, token_for(stranger), foreign)
        assert [e for e in refused if e["type"] == "error"]
        assert await exists(engine, me, task)

        # Its time runs out (moved into the past here, as an hour would).
        async with user_transaction(engine, me) as conn:
            await conn.execute(
                text("UPDATE chat_approvals SET expires_at = now() - interval '1 second'")
            )
        _, late = await post(http, token, answer(thread_id, card, "confirm"))
        assert await exists(engine, me, task)
        assert len(fake_model.requests) == calls + 1  # only the stranger's own turn
        [notice] = [e["message"] for e in late if e["type"] == "notice"]
        assert "expired" in notice
        [replaced] = [e["item"] for e in late if e["type"] == "thread.item.replaced"]
        assert "confirm" not in replaced["widget"]


async def test_a_paused_turn_survives_a_restart(
    database_url: str,
    engine: AsyncEngine,
    fake_model: FakeOpenAI,
    token_for: TokenFor,
    new_user: Callable[[], str],
) -> None:
    me = new_user()
    task = await service.add_task(engine=engine, user_id=me, data=TaskCreate(title="Dentist"))
    settings = scripted_settings(database_url, fake_model)
    async with app_client(settings) as http:
        thread_id, card = await paused_delete(http, token_for(me), fake_model, task)
    # A new app (as after a restart, or on another replica) takes the answer.
    async with app_client(settings) as http:
        _, pressed = await post(http, token_for(me), answer(thread_id, card, "confirm"))
        assert not [e for e in pressed if e["type"] == "error"], pressed
    assert not await exists(engine, me, task)


async def test_a_confirmation_is_answered_only_from_its_own_card(
    database_url: str,
    engine: AsyncEngine,
    fake_model: FakeOpenAI,
    token_for: TokenFor,
    new_user: Callable[[], str],
) -> None:
    """A retry deletes the card with the rest of its answer; a request that names no card (or
    another item) must not run the deletion the card asked about."""
    me = new_user()
    task = await service.add_task(engine=engine, user_id=me, data=TaskCreate(title="Dentist"))
    async with app_client(scripted_settings(database_url, fake_model)) as http:
        token = token_for(me)
        thread_id, card = await paused_delete(http, token, fake_model, task)
        pressed = answer(thread_id, card, "confirm")
        cardless = {**pressed, "params": {**pressed["params"], "item_id": None}}
        _, events = await post(http, token, cardless)
        assert await exists(engine, me, task)
        assert len(fake_model.requests) == 2  # the paused turn did not go on
        assert [e["message"] for e in events if e["type"] == "notice"] == [CARD_GONE]
        assert not [e for e in events if e["type"] == "thread.item.replaced"]
        # From its card it still works.
        _, confirmed = await post(http, token, pressed)
        assert not await exists(engine, me, task)
        assert not [e for e in confirmed if e["type"] == "error"], confirmed
