"""`taskchat serve` as the compose stack runs it: SIGTERM drains, and several processes
share one database with no sticky state."""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx

from taskchat.auth import mint_token
from taskchat.chat.store.postgres import PostgresStore
from taskchat.chat.turn.events import CUT_OFF_NOTE
from taskchat.context import RequestContext
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.protocol import (
    add_message,
    assistant_texts,
    auth,
    create_thread,
    iter_events,
    thread_id_of,
)
from tests.support.served import Served, served, served_env
from tests.support.settings import make_settings


def _ended_cleanly(backend: Served) -> None:
    """Exited on its own (uvicorn re-raises the SIGTERM it handled), nothing cancelled."""
    assert backend.process.wait(timeout=30) in (0, -15)
    logs = backend.logs()
    assert "Traceback" not in logs, logs
    assert "timeout graceful shutdown exceeded" not in logs, logs


def _token(database_url: str) -> tuple[str, str]:
    user = f"serve-{secrets.token_hex(4)}"
    return user, mint_token(make_settings(database_url), sub=user)


def _stream(
    backend: Served, token: str, body: dict[str, Any], on_text: str | None = None
) -> list[dict[str, Any]]:
    """The events of one streamed turn; SIGTERM the server once `on_text` has arrived."""
    events: list[dict[str, Any]] = []
    text = ""
    with httpx.stream(
        "POST", f"{backend.url}/chatkit", json=body, headers=auth(token), timeout=30
    ) as response:
        assert response.status_code == 200
        for event in iter_events(response):
            events.append(event)
            update = event.get("update") or {}
            if update.get("type") == "assistant_message.content_part.text_delta":
                text += update["delta"]
                if on_text is not None and text == on_text:
                    backend.process.send_signal(15)
    return events


async def _items(database_url: str, user: str, thread_id: str) -> list[Any]:
    store = PostgresStore.from_url(database_url)
    try:
        page = await store.load_thread_items(
            thread_id, None, 50, "asc", RequestContext(user_id=user)
        )
        return list(page.data)
    finally:
        await store.engine.dispose()


def test_sigterm_lets_a_running_stream_finish(database_url: str, fake_model: FakeOpenAI) -> None:
    fake_model.script(Reply(text=["One, ", "two, ", "three, ", "four."], chunk_delay=0.4))
    env = served_env(database_url, fake_model, SHUTDOWN_GRACE_SECONDS="15")
    with served(env) as backend:
        _, token = _token(database_url)
        events = _stream(backend, token, create_thread("count to four"), on_text="One, ")
        assert assistant_texts(events) == ["One, two, three, four."]
        assert not [event for event in events if event["type"] == "error"]
        _ended_cleanly(backend)


async def test_sigterm_cuts_a_stream_past_the_grace_period_and_keeps_its_partial_answer(
    database_url: str, fake_model: FakeOpenAI
) -> None:
    # The model holds its stream open: only the shutdown can end this turn.
    fake_model.script(Reply(text=["Half ", "an answer", " never sent"], hold_after=2))
    env = served_env(database_url, fake_model, SHUTDOWN_GRACE_SECONDS="8")
    try:
        with served(env) as backend:
            user, token = _token(database_url)
            # The stream ends cleanly (a complete HTTP response), with a notice that says why.
            events = _stream(backend, token, create_thread("a long one"), on_text="Half an answer")
            errors = [event for event in events if event["type"] == "error"]
            assert len(errors) == 1 and "restarting" in errors[0]["message"]
            _ended_cleanly(backend)
    finally:
        fake_model.release.set()
    items = await _items(database_url, user, thread_id_of(events))
    kinds = [item.type for item in items]
    assert kinds == ["user_message", "assistant_message"]
    assert "".join(part.text for part in items[1].content) == "Half an answer" + CUT_OFF_NOTE


def test_two_backend_processes_share_a_conversation(
    database_url: str, fake_model: FakeOpenAI
) -> None:
    fake_model.script(
        Reply(text=["Noted: the blue folder."]), Reply(text=["It was the blue folder."])
    )
    env = served_env(database_url, fake_model)
    with served(env) as first, served(env) as second:
        _, token = _token(database_url)
        opened = _stream(first, token, create_thread("Remember: the blue folder."))
        thread = thread_id_of(opened)
        answer = _stream(second, token, add_message(thread, "Which folder was it?"))
        assert assistant_texts(answer) == ["It was the blue folder."]
        # The second process built the model's input from the database alone.
        second_input = json.dumps(fake_model.requests[-1]["messages"])
        assert "Remember: the blue folder." in second_input
        assert "Noted: the blue folder." in second_input
        listed = httpx.post(
            f"{first.url}/chatkit",
            json={"type": "items.list", "params": {"thread_id": thread, "order": "asc"}},
            headers=auth(token),
        ).json()
        assert [item["type"] for item in listed["data"]] == [
            "user_message",
            "assistant_message",
            "user_message",
            "assistant_message",
        ]
