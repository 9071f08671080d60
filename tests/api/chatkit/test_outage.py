"""A database outage in the middle of turns: PostgreSQL is stopped while users chat, then
started again. Every request gets a 503 with Retry-After or one error event at the end of
its stream (never a dropped connection), turns work again with no restart of the app, and
every message the server accepted is stored exactly once.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import pytest

from taskchat.app import create_app
from taskchat.auth import mint_token
from taskchat.chat.store.postgres import PostgresStore
from taskchat.context import RequestContext
from taskchat.db.local import LocalPostgres, start_throwaway
from taskchat.db.migrate import upgrade
from tests.support.fake_openai import FakeOpenAI
from tests.support.live import LiveServer
from tests.support.protocol import SSE, add_message, auth, create_thread, iter_events
from tests.support.settings import SCRIPTED_MODEL, make_settings

USERS = 4


@pytest.fixture
def own_database() -> Iterator[LocalPostgres]:
    """A PostgreSQL of this test's own, since the test stops it."""
    server, root = start_throwaway()
    try:
        asyncio.run(upgrade(server.url))
        yield server
    finally:
        if server.running():
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Outcome:
    """What one request got."""

    text: str
    status: int = 0
    retry_after: str | None = None
    error_code: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    dropped: str | None = None
    """How the connection broke, if it did."""

    @property
    def accepted(self) -> bool:
        """The server stored the message (it says so with the user message's done event)."""
        return any(
            event["type"] == "thread.item.done" and event["item"]["type"] == "user_message"
            for event in self.events
        )

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [event for event in self.events if event["type"] == "error"]

    @property
    def answered(self) -> bool:
        return any(
            event["type"] == "thread.item.done" and event["item"]["type"] == "assistant_message"
            for event in self.events
        )


async def turn(http: httpx.AsyncClient, token: str, body: dict[str, Any], text: str) -> Outcome:
    outcome = Outcome(text)
    try:
        async with http.stream("POST", "/chatkit", json=body, headers=auth(token)) as response:
            outcome.status = response.status_code
            outcome.retry_after = response.headers.get("retry-after")
            if response.headers.get("content-type", "").startswith(SSE):
                await response.aread()
                outcome.events = list(iter_events(response))
            else:
                await response.aread()
                outcome.error_code = response.json().get("error")
    except httpx.HTTPError as error:
        outcome.dropped = type(error).__name__
    return outcome


async def test_a_database_outage_gets_503s_and_error_events_and_loses_nothing(
    own_database: LocalPostgres, fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    fake_openai.reset()
    settings = make_settings(
        own_database.url,
        model_base_url=fake_openai.base_url,
        chat_turns_per_minute=10_000,
        chat_concurrent_streams=100,
        **SCRIPTED_MODEL,
    )
    live = LiveServer(create_app(settings))
    live.start()
    users = [f"user-outage-{n}" for n in range(USERS)]
    tokens = {user: mint_token(settings, sub=user) for user in users}
    outcomes: list[Outcome] = []
    counter = 0
    phase = "before"
    try:
        async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
            threads: dict[str, str] = {}
            for user in users:
                first = await turn(http, tokens[user], create_thread("first"), "first")
                assert first.answered, first
                threads[user] = next(
                    e["thread"]["id"] for e in first.events if e["type"] == "thread.created"
                )

            async def chat(user: str) -> None:
                nonlocal counter
                while phase != "done":
                    counter += 1
                    text = f"{user} message {counter}"
                    body = create_thread(text) if counter % 2 else add_message(threads[user], text)
                    outcomes.append(await turn(http, tokens[user], body, text))
                    if phase == "down":
                        # Still asking, but not so fast that the logs are all this test reads.
                        await anyio.sleep(0.05)

            caplog.set_level(logging.WARNING)
            async with anyio.create_task_group() as group:
                for user in users:
                    group.start_soon(chat, user)
                await anyio.sleep(1.0)
                phase = "down"
                went_down = len(outcomes)
                await anyio.to_thread.run_sync(own_database.stop)
                await anyio.sleep(1.0)
                assert (await http.get("/readyz")).status_code == 503
                await anyio.sleep(1.0)
                await anyio.to_thread.run_sync(own_database.start)
                came_back = len(outcomes)
                phase = "up"
                await anyio.sleep(2.0)
                phase = "done"

            # With no restart of the app, it is ready again and every user can chat again.
            assert (await http.get("/readyz")).status_code == 200
            for user in users:
                again = await turn(http, tokens[user], add_message(threads[user], "again"), "again")
                assert again.status == 200 and again.answered and not again.errors, again
    finally:
        live.stop()

    failed = [o for o in outcomes if o.status != 200 or o.errors or o.dropped]
    assert failed, "the outage should have failed some requests"
    assert any(o.answered for o in outcomes[:went_down]), "turns before the outage"
    assert any(o.answered for o in outcomes[came_back:]), "turns after the outage"
    for outcome in outcomes:
        assert outcome.dropped is None, f"dropped connection: {outcome}"
        if outcome.status == 503:
            assert outcome.error_code == "database_unavailable", outcome
            assert outcome.retry_after and int(outcome.retry_after) > 0, outcome
            continue
        assert outcome.status == 200, outcome
        # One error event ends a failed stream; a stream without one finished its answer.
        assert len(outcome.errors) <= 1, outcome
        assert all(error.get("message") for error in outcome.errors), f"says nothing: {outcome}"
        assert outcome.errors or outcome.answered, f"silent end of stream: {outcome}"

    stored = await stored_user_texts(own_database.url, users)
    for outcome in outcomes:
        if outcome.accepted:
            assert stored[outcome.text] == 1, outcome.text
        else:
            assert stored[outcome.text] <= 1, outcome.text

    # One line per failure, and a traceback at most once per distinct error. Not counted:
    # each new thread's title call, which the fake model refuses with no title scripted
    # (one warning a thread, however many turns the app fits in while the database is up).
    records = [
        r
        for r in caplog.records
        if r.name != "taskchat.access" and not r.getMessage().startswith("title call failed")
    ]
    assert len(records) <= 2 * len(failed) + 10, [r.getMessage() for r in records[:20]]
    # Keyed as the throttle keyed them, when they were logged (error_at, set by logs.py).
    tracebacks = Counter(
        (r.exc_info[0].__name__ if r.exc_info[0] else "?", getattr(r, "error_at", "?"))
        for r in records
        if r.exc_info
    )
    assert all(count == 1 for count in tracebacks.values()), tracebacks


async def stored_user_texts(url: str, users: list[str]) -> Counter[str]:
    """How often each user message text is stored, across the users' threads."""
    store = PostgresStore.from_url(url)
    texts: Counter[str] = Counter()
    try:
        for user in users:
            context = RequestContext(user_id=user)
            threads = await store.load_threads(1000, None, "asc", context)
            for thread in threads.data:
                items = await store.load_thread_items(thread.id, None, 1000, "asc", context)
                for item in items.data:
                    if item.type == "user_message":
                        texts["".join(part.text for part in item.content)] += 1
    finally:
        await store.engine.dispose()
    return texts
