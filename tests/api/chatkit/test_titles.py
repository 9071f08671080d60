"""Thread titles, over real HTTP with the scripted model: the first answer names the
thread, later turns make no title call, a name the person gives is kept, and a failed
title call still leaves the answer and a fallback title."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from tests.support.apps import app_client
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.protocol import (
    add_message,
    auth,
    create_thread,
    post,
    thread_id_of,
    titled,
)
from tests.support.settings import make_settings, scripted_settings
from tests.support.tokens import TokenFor


async def titles(http: httpx.AsyncClient, token: str) -> dict[str, str | None]:
    response = await http.post(
        "/chatkit", json={"type": "threads.list", "params": {}}, headers=auth(token)
    )
    return {thread["id"]: thread.get("title") for thread in response.json()["data"]}


def updated_titles(events: list[dict[str, Any]]) -> list[str | None]:
    return [event["thread"].get("title") for event in events if event["type"] == "thread.updated"]


async def test_the_first_answer_names_the_thread_and_later_turns_make_no_title_call(
    database_url: str, fake_model: FakeOpenAI, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    fake_model.titles.append("Dentist appointment plans")
    # Paced, so the (instant) title call is back before the answer ends.
    fake_model.script(Reply(text=["Sure, ", "let's ", "plan it."], chunk_delay=0.1))
    async with app_client(scripted_settings(database_url, fake_model)) as http:
        token = token_for(new_user())
        _, events = await post(http, token, create_thread("Help me plan my dentist appointment"))
        assert updated_titles(events) == ["Dentist appointment plans"]
        thread_id = thread_id_of(events)
        assert (await titles(http, token))[thread_id] == "Dentist appointment plans"
        [call] = fake_model.title_requests
        assert "Help me plan my dentist appointment" in str(call["messages"])

        fake_model.script(Reply(text=["Done."]))
        _, later = await post(http, token, add_message(thread_id, "and the time?"))
        assert len(fake_model.title_requests) == 1 and updated_titles(later) == []


async def test_a_rename_during_the_first_answer_is_kept(
    database_url: str, fake_model: FakeOpenAI, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    fake_model.titles.append("Generated name")
    fake_model.title_delay = 3.0  # still on its way when the person renames the thread
    fake_model.script(Reply(text=["Thinking", " it over."], hold_after=1))
    async with app_client(scripted_settings(database_url, fake_model)) as http:
        token = token_for(new_user())
        answer = asyncio.create_task(post(http, token, create_thread("Something long")))
        # The thread exists as soon as the turn starts; its answer is held meanwhile.
        for _ in range(100):
            listed = await titles(http, token)
            if listed:
                break
            await asyncio.sleep(0.05)
        [thread_id] = listed
        renamed = await http.post(
            "/chatkit",
            json={"type": "threads.update", "params": {"thread_id": thread_id, "title": "My name"}},
            headers=auth(token),
        )
        assert renamed.status_code == 200
        assert not answer.done()
        fake_model.release.set()
        _, rest = await answer
        assert "Generated name" not in updated_titles(rest)
        await asyncio.sleep(3.5)  # the title call has come back and been refused
        assert len(fake_model.title_requests) == 1
        assert (await titles(http, token))[thread_id] == "My name"


async def test_a_failed_title_call_leaves_the_answer_and_a_fallback_title(
    database_url: str, fake_model: FakeOpenAI, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    # No title scripted: the title call answers 503.
    fake_model.script(Reply(text=["Here is the plan."]))
    async with app_client(scripted_settings(database_url, fake_model)) as http:
        token = token_for(new_user())
        message = "Please help me write a long shopping list for the whole week ahead"
        _, events = await post(http, token, create_thread(message))
        assert [e for e in events if e["type"] == "thread.item.done"][-1]["item"]["content"][0][
            "text"
        ] == "Here is the plan."
        assert not [e for e in events if e["type"] == "error"]
        title = await titled(http, token, thread_id_of(events))
        assert title == "Please help me write a long shopping…"
        assert len(fake_model.title_requests) == 1


async def test_with_openai_the_title_comes_from_the_responses_api(
    database_url: str, fake_model: FakeOpenAI, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    fake_model.titles.append("Weekly groceries")
    fake_model.script(Reply(text=["On it."]))
    settings = make_settings(
        database_url,
        model_provider="openai",
        openai_api_key="test-key",
        model_base_url=fake_model.base_url,
        model_max_retries=0,
    )
    async with app_client(settings) as http:
        token = token_for(new_user())
        _, events = await post(http, token, create_thread("Plan my groceries for the week"))
        assert await titled(http, token, thread_id_of(events)) == "Weekly groceries"
    [call] = fake_model.title_requests
    # The Responses API's own fields, not chat messages.
    assert call["input"] == "Plan my groceries for the week" and "instructions" in call
