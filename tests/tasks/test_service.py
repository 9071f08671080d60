"""Task data access on the real database, scoped to one user."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.chat.store.postgres import PostgresStore
from taskchat.tasks import service
from taskchat.tasks.schemas import TaskCreate, TaskPublic, TaskUpdate


@pytest.fixture
def engine(store: PostgresStore) -> AsyncEngine:
    return store.engine


async def add(engine: AsyncEngine, user: str, title: str, **fields: object) -> TaskPublic:
    data = TaskCreate.model_validate({"title": title, **fields})
    return await service.add_task(engine=engine, user_id=user, data=data)


async def test_add_get_and_list_open_first_then_oldest_first(
    engine: AsyncEngine, new_user: Callable[[], str]
) -> None:
    user = new_user()
    first = await add(engine, user, "First", priority="high", due_date="2026-12-01")
    second = await add(engine, user, "Second")
    third = await add(engine, user, "Third")
    await service.set_done(engine=engine, user_id=user, task_id=first.id, done=True)
    assert first.id.startswith("task_") and first.due_date == date(2026, 12, 1)
    assert await service.get_task(engine=engine, user_id=user, task_id=second.id) == second
    listed = await service.list_tasks(engine=engine, user_id=user, status="all")
    assert [task.title for task in listed] == ["Second", "Third", "First"]
    assert [t.id for t in await service.list_tasks(engine=engine, user_id=user)] == [
        second.id,
        third.id,
    ]
    done = await service.list_tasks(engine=engine, user_id=user, status="done")
    assert [t.id for t in done] == [first.id] and done[0].completed_at is not None


async def test_search_is_case_insensitive_and_takes_wildcards_literally(
    engine: AsyncEngine, new_user: Callable[[], str]
) -> None:
    user = new_user()
    await add(engine, user, "Pay 100% of rent")
    await add(engine, user, "Call mum", notes="about the PAYMENT")
    await add(engine, user, "snake_case cleanup")
    await add(engine, user, "Something else")

    async def titles(query: str) -> list[str]:
        found = await service.list_tasks(engine=engine, user_id=user, status="all", query=query)
        return [task.title for task in found]

    assert await titles("pay") == ["Pay 100% of rent", "Call mum"]
    assert await titles("%") == ["Pay 100% of rent"]
    assert await titles("_") == ["snake_case cleanup"]
    assert await titles("nothing like it") == []


async def test_the_limit_is_kept_within_bounds(
    engine: AsyncEngine, new_user: Callable[[], str]
) -> None:
    user = new_user()
    for index in range(3):
        await add(engine, user, f"Task {index}")
    assert len(await service.list_tasks(engine=engine, user_id=user, limit=0)) == 1
    assert len(await service.list_tasks(engine=engine, user_id=user, limit=2)) == 2
    assert len(await service.list_tasks(engine=engine, user_id=user, limit=10_000)) == 3


async def test_update_changes_only_what_is_given(
    engine: AsyncEngine, new_user: Callable[[], str]
) -> None:
    user = new_user()
    task = await add(engine, user, "Dentist", notes="bring card", due_date="2026-12-01")
    changed = await service.update_task(
        engine=engine, user_id=user, task_id=task.id, changes=TaskUpdate(title="Dentist at 10")
    )
    assert (changed.title, changed.notes, changed.due_date) == (
        "Dentist at 10",
        "bring card",
        date(2026, 12, 1),
    )
    assert changed.updated_at >= task.updated_at
    cleared = await service.update_task(
        engine=engine, user_id=user, task_id=task.id, changes=TaskUpdate(clear_due_date=True)
    )
    assert cleared.due_date is None
    with pytest.raises(service.TaskInputError, match="Nothing to change"):
        await service.update_task(
            engine=engine, user_id=user, task_id=task.id, changes=TaskUpdate()
        )


async def test_done_and_open_again(engine: AsyncEngine, new_user: Callable[[], str]) -> None:
    user = new_user()
    task = await add(engine, user, "Laundry")
    done = await service.set_done(engine=engine, user_id=user, task_id=task.id, done=True)
    assert done.done and done.completed_at is not None
    reopened = await service.set_done(engine=engine, user_id=user, task_id=task.id, done=False)
    assert not reopened.done and reopened.completed_at is None


async def test_of_changes_sent_at_once_exactly_one_changes_the_task(
    engine: AsyncEngine, new_user: Callable[[], str]
) -> None:
    user = new_user()
    task = await add(engine, user, "Laundry")
    results = await asyncio.gather(
        *(
            service.change_done(engine=engine, user_id=user, task_id=task.id, done=True)
            for _ in range(5)
        )
    )
    assert [changed for _, changed in results].count(True) == 1
    assert all(now.done for now, _ in results)
    with pytest.raises(service.TaskNotFoundError):
        await service.change_done(engine=engine, user_id=new_user(), task_id=task.id, done=False)


async def test_another_users_task_is_not_found_for_every_operation(
    engine: AsyncEngine, new_user: Callable[[], str]
) -> None:
    owner, other = new_user(), new_user()
    task = await add(engine, owner, "Private")
    attempts = [
        service.get_task(engine=engine, user_id=other, task_id=task.id),
        service.update_task(
            engine=engine, user_id=other, task_id=task.id, changes=TaskUpdate(title="Mine")
        ),
        service.set_done(engine=engine, user_id=other, task_id=task.id, done=True),
        service.delete_task(engine=engine, user_id=other, task_id=task.id),
    ]
    for attempt in attempts:
        with pytest.raises(service.TaskNotFoundError) as caught:
            await attempt
        assert caught.value.status == 404 and caught.value.code == "not_found"
    assert await service.list_tasks(engine=engine, user_id=other, status="all") == []
    assert await service.get_task(engine=engine, user_id=owner, task_id=task.id) == task


async def test_delete_returns_the_task_once(
    engine: AsyncEngine, new_user: Callable[[], str]
) -> None:
    user = new_user()
    task = await add(engine, user, "Old")
    deleted = await service.delete_task(engine=engine, user_id=user, task_id=task.id)
    assert deleted.id == task.id
    with pytest.raises(service.TaskNotFoundError):
        await service.delete_task(engine=engine, user_id=user, task_id=task.id)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"title": ""}, "title must have at least 1 character."),
        ({"title": "x" * 201}, "title must have at most 200 characters."),
        ({"title": "ok", "priority": "urgent"}, "priority must be one of low, normal, high."),
        ({"title": "ok", "due_date": "next tuesday"}, "due_date must be a date written as"),
        ({"title": "ok", "user_id": "someone"}, "user_id is not something this accepts."),
    ],
)
def test_bad_fields_are_named_in_words(fields: dict[str, object], words: str) -> None:
    with pytest.raises(service.TaskInputError) as caught:
        service.parse_create(fields)
    assert str(caught.value).startswith(words)
    assert caught.value.status == 400 and caught.value.code == "invalid_task"
