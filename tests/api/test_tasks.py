"""GET /api/tasks: the caller's tasks only, with filters."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from taskchat.chat.store.postgres import PostgresStore
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


async def test_marks_the_callers_task_done_and_open_again(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    store: PostgresStore,
) -> None:
    alice = new_user()
    milk = await service.add_task(
        engine=store.engine, user_id=alice, data=TaskCreate(title="Buy milk")
    )
    headers = auth(token_for(alice))

    done = await client.patch(f"/api/tasks/{milk.id}", json={"done": True}, headers=headers)
    assert done.status_code == 200
    assert done.json()["id"] == milk.id and done.json()["done"] is True
    assert done.json()["completed_at"] is not None
    stored = await service.get_task(engine=store.engine, user_id=alice, task_id=milk.id)
    assert stored.done and stored.completed_at is not None

    reopened = await client.patch(f"/api/tasks/{milk.id}", json={"done": False}, headers=headers)
    assert reopened.status_code == 200
    assert reopened.json()["done"] is False and reopened.json()["completed_at"] is None
    stored = await service.get_task(engine=store.engine, user_id=alice, task_id=milk.id)
    assert not stored.done and stored.completed_at is None


async def test_another_users_task_is_a_404_like_a_missing_one_and_stays_as_it_was(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    store: PostgresStore,
) -> None:
    alice, bob = new_user(), new_user()
    hers = await service.add_task(
        engine=store.engine, user_id=alice, data=TaskCreate(title="Alice's")
    )
    headers = auth(token_for(bob))
    foreign = await client.patch(f"/api/tasks/{hers.id}", json={"done": True}, headers=headers)
    missing = await client.patch("/api/tasks/task_0000", json={"done": True}, headers=headers)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    assert foreign.json()["error"] == "not_found"
    assert "list_tasks" not in foreign.json()["detail"]
    stored = await service.get_task(engine=store.engine, user_id=alice, task_id=hers.id)
    assert not stored.done


async def test_marking_needs_a_token_and_a_boolean(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    store: PostgresStore,
) -> None:
    alice = new_user()
    task = await service.add_task(
        engine=store.engine, user_id=alice, data=TaskCreate(title="Water plants")
    )
    path = f"/api/tasks/{task.id}"
    assert (await client.patch(path, json={"done": True})).status_code == 401
    headers = auth(token_for(alice))
    for body in ({}, {"done": "yes"}, {"done": 1}, {"done": True, "title": "x"}):
        refused = await client.patch(path, json=body, headers=headers)
        assert refused.status_code == 400, body
        assert refused.json()["error"] == "invalid_input", body
    nul = await client.patch("/api/tasks/task%00", json={"done": True}, headers=headers)
    assert nul.status_code == 400 and nul.json()["error"] == "invalid_text"
    too_long = await client.patch("/api/tasks/" + "t" * 101, json={"done": True}, headers=headers)
    assert too_long.status_code == 400 and too_long.json()["detail"].startswith("task_id:")
    stored = await service.get_task(engine=store.engine, user_id=alice, task_id=task.id)
    assert not stored.done
