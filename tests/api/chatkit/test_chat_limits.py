"""The per-user chat limits: turns a minute and streams at once, counted in PostgreSQL so
that every replica sees the same counts. Over a limit: a 429 with Retry-After before any
streaming, and other users are unaffected."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from taskchat.app import create_app
from taskchat.config import Settings
from tests.support.apps import app_client
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.live import LiveServer
from tests.support.protocol import SSE, add_message, aiter_events, auth, create_thread, post
from tests.support.settings import scripted_settings
from tests.support.tokens import TokenFor


def limited(database_url: str, fake_model: FakeOpenAI, **limits: Any) -> Settings:
    return scripted_settings(database_url, fake_model, **limits)


async def test_turns_a_minute_are_limited_per_user_across_replicas(
    database_url: str, fake_model: FakeOpenAI, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    settings = limited(database_url, fake_model, chat_turns_per_minute=3, chat_concurrent_streams=0)
    me, other = token_for(new_user()), token_for(new_user())
    async with app_client(settings) as one, app_client(settings) as two:
        for replica in (one, two, one):
            response, events = await post(replica, me, create_thread("hello"))
            assert response.status_code == 200 and not [e for e in events if e["type"] == "error"]
        refused = await two.post("/chatkit", json=create_thread("one more"), headers=auth(me))
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"] == "rate_limited"
        assert "a minute" in refused.json()["detail"]
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        # Reading is not a turn, and nobody else is slowed down.
        listed, _ = await post(two, me, {"type": "threads.list", "params": {}})
        assert listed.status_code == 200 and len(listed.json()["data"]) == 3
        theirs, _ = await post(one, other, create_thread("hello"))
        assert theirs.status_code == 200


@pytest.fixture
def held_stream_server(database_url: str, fake_model: FakeOpenAI) -> Iterator[LiveServer]:
    settings = limited(database_url, fake_model, chat_turns_per_minute=0, chat_concurrent_streams=1)
    live = LiveServer(create_app(settings))
    live.start()
    yield live
    fake_model.release.set()
    live.stop()


async def test_streams_at_once_are_limited_per_user(
    held_stream_server: LiveServer,
    fake_model: FakeOpenAI,
    token_for: TokenFor,
    new_user: Callable[[], str],
) -> None:
    me, other = token_for(new_user()), token_for(new_user())
    fake_model.script(Reply(text=["Thinking ", "hard"], hold_after=1), Reply(text=["Hi."]))
    async with httpx.AsyncClient(base_url=held_stream_server.url, timeout=30) as http:
        async with http.stream(
            "POST", "/chatkit", json=create_thread("long"), headers=auth(me)
        ) as held:
            assert held.headers["content-type"].startswith(SSE)
            events = aiter_events(held)
            async for event in events:
                if event["type"] == "thread.item.updated":
                    break  # the answer is streaming, and held open by the model
            refused = await http.post("/chatkit", json=create_thread("also"), headers=auth(me))
            assert refused.status_code == 429, refused.text
            assert "wait for one to finish" in refused.json()["detail"]
            assert int(refused.headers["retry-after"]) >= 1
            theirs, _ = await post(http, other, create_thread("mine"))
            assert theirs.status_code == 200
            fake_model.release.set()
            rest = [event["type"] async for event in events]
            assert "error" not in rest and rest, rest
        # The ended stream gave its slot back.
        fake_model.script(Reply(text=["Again."]))
        for _ in range(50):
            again = await http.post("/chatkit", json=create_thread("again"), headers=auth(me))
            if again.status_code == 200:
                break
            await asyncio.sleep(0.05)
        assert again.status_code == 200, again.text


async def test_a_stream_refused_by_its_checks_gives_its_slot_back(
    database_url: str, fake_model: FakeOpenAI, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    # Its admission is sent before the request is checked (api/admitted.py); refused, it
    # is withdrawn: it counts neither among the streams at once nor the turns a minute.
    settings = limited(database_url, fake_model, chat_turns_per_minute=1, chat_concurrent_streams=1)
    me = token_for(new_user())
    fake_model.script(Reply(text=["Hi."]))
    async with app_client(settings) as http:
        missing = await http.post(
            "/chatkit", json=add_message("thr_missing", "hello?"), headers=auth(me)
        )
        assert missing.status_code == 404, missing.text
        response, events = await post(http, me, create_thread("hello"))
        assert response.status_code == 200, response.text
        assert not [e for e in events if e["type"] == "error"], events


async def test_a_body_that_first_names_a_stream_but_is_not_one_gives_its_slot_back(
    database_url: str, fake_model: FakeOpenAI, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    # Its admission is sent when the body opens with a streaming type (api/chatkit.py).
    settings = limited(database_url, fake_model, chat_turns_per_minute=1, chat_concurrent_streams=1)
    me = token_for(new_user())
    fake_model.script(Reply(text=["Hi."]))
    sent_as = {"Content-Type": "application/json", **auth(me)}
    async with app_client(settings) as http:
        invalid = await http.post(
            "/chatkit", content=b'{"type": "threads.create", "params": 7}', headers=sent_as
        )
        assert invalid.status_code == 400, invalid.text
        # JSON keeps the last of two keys: a listing, not a stream.
        listing = await http.post(
            "/chatkit",
            content=b'{"type": "threads.create", "type": "threads.list", "params": {}}',
            headers=sent_as,
        )
        assert listing.status_code == 200 and "data" in listing.json(), listing.text
        response, events = await post(http, me, create_thread("hello"))
        assert response.status_code == 200, response.text
        assert not [e for e in events if e["type"] == "error"], events
