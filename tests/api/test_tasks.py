"""GET /api/tasks: the caller's tasks only, with filters."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from taskchat.chat.store import PostgresStore
from taskchat.tasks import service
from taskchat.tasks.schemas import TaskCreate
from tests.support.protocol import auth
from tests.support.tokens import TokenFor


async def test_lists_only_the_callers_tasks_with_filters(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    store: PostgresStore,
) -> None:
    alice, bob = new_user(), new_user()
    engine = store.engine
    milk = await service.add_task(engine=engine, user_id=alice, data=TaskCreate(title="Buy milk"))
    mum = await service.add_task(engine=engine, user_id=alice, data=TaskCreate(title="Call mum"))
    await service.set_done(engine=engine, user_id=alice, task_id=mum.id, done=True)
    await service.add_task(engine=engine, user_id=bob, data=TaskCreate(title="Bob's"))

    token = token_for(alice)
    open_ = await client.get("/api/tasks", headers=auth(token))
    assert open_.status_code == 200
    assert [t["title"] for t in open_.json()["data"]] == ["Buy milk"]
    everything = await client.get("/api/tasks?status=all", headers=auth(token))
    assert [t["id"] for t in everything.json()["data"]] == [milk.id, mum.id]
    done = await client.get("/api/tasks?status=done", headers=auth(token))
    assert [t["done"] for t in done.json()["data"]] == [True]
    found = await client.get(
        "/api/tasks", params={"status": "all", "q": "MUM"}, headers=auth(token)
    )
    assert [t["title"] for t in found.json()["data"]] == ["Call mum"]
    wildcard = await client.get("/api/tasks", params={"q": "%"}, headers=auth(token))
    assert wildcard.json()["data"] == []


async def test_needs_a_token_and_valid_filters(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    assert (await client.get("/api/tasks")).status_code == 401
    bad = await client.get("/api/tasks?status=someday", headers=auth(token_for("x")))
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_input" and bad.json()["detail"].startswith("status:")
    assert "someday" not in bad.text


async def test_a_search_postgresql_cannot_run_is_a_400(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    response = await client.get("/api/tasks?q=milk%00", headers=auth(token_for("searcher")))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_text"
    assert response.json()["detail"].startswith("q contains a NUL character")
