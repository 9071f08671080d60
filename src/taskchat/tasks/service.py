"""Data access for tasks, scoped to one user like every chat query."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taskchat.db.engine import user_transaction
from taskchat.db.tables import TASKS
from taskchat.errors import ProblemError, ResourceNotFoundError
from taskchat.ids import new_id
from taskchat.tasks.schemas import Status, TaskCreate, TaskPublic, TaskUpdate
from taskchat.validation import describe

_tasks = TASKS

LIST_LIMIT_MAX = 200

ID_PREFIX = "task"
"""Task ids look like `task_...` (the tools' instructions tell the model so)."""


class TaskInputError(ProblemError):
    """A task request was invalid; the message says what to fix."""

    code = "invalid_task"


class TaskNotFoundError(ResourceNotFoundError):
    """No task with that id belongs to the user."""

    def __init__(self, task_id: str) -> None:
        super().__init__(f"Task {task_id!r} not found. Use list_tasks to see the task ids.")


def parse_create(data: dict[str, Any]) -> TaskCreate:
    """A `TaskCreate` from raw fields, or TaskInputError in words."""
    try:
        return TaskCreate.model_validate(data)
    except ValidationError as error:
        raise TaskInputError(describe(error)) from None


def parse_update(data: dict[str, Any]) -> TaskUpdate:
    """A `TaskUpdate` from raw fields, or TaskInputError in words."""
    try:
        return TaskUpdate.model_validate(data)
    except ValidationError as error:
        raise TaskInputError(describe(error)) from None


def _public(row: Any) -> TaskPublic:
    return TaskPublic.model_validate(row, from_attributes=True)


_COLUMNS = (
    _tasks.c.id,
    _tasks.c.title,
    _tasks.c.notes,
    _tasks.c.priority,
    _tasks.c.due_date,
    _tasks.c.done,
    _tasks.c.created_at,
    _tasks.c.updated_at,
    _tasks.c.completed_at,
)


@asynccontextmanager
async def _transaction(
    engine: AsyncEngine, user_id: str, within: AsyncConnection | None
) -> AsyncIterator[AsyncConnection]:
    """`within`, a transaction of `user_id`'s that the caller opened, or a new one."""
    if within is not None:
        yield within
        return
    async with user_transaction(engine, user_id) as conn:
        yield conn


async def add_task(
    *, engine: AsyncEngine, user_id: str, data: TaskCreate, within: AsyncConnection | None = None
) -> TaskPublic:
    """Create a task for `user_id`; in `within` (a `user_transaction` of that user's, which
    also records the call: tools/ledger.py) when given, as for every change below."""
    now = datetime.now(UTC)
    async with _transaction(engine, user_id, within) as conn:
        row = (
            await conn.execute(
                insert(_tasks)
                .values(
                    user_id=user_id,
                    id=new_id(ID_PREFIX),
                    title=data.title,
                    notes=data.notes,
                    priority=data.priority,
                    due_date=data.due_date,
                    done=False,
                    created_at=now,
                    updated_at=now,
                )
                .returning(*_COLUMNS)
            )
        ).one()
    return _public(row)


async def list_tasks(
    *,
    engine: AsyncEngine,
    user_id: str,
    status: Status = "open",
    query: str | None = None,
    limit: int = 50,
) -> list[TaskPublic]:
    """The user's tasks, open ones first, oldest first within each group."""
    limit = max(1, min(limit, LIST_LIMIT_MAX))
    statement = select(*_COLUMNS).where(_tasks.c.user_id == user_id)
    if status == "open":
        statement = statement.where(_tasks.c.done.is_(False))
    elif status == "done":
        statement = statement.where(_tasks.c.done.is_(True))
    if query:
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(
            _tasks.c.title.ilike(pattern, escape="\\") | _tasks.c.notes.ilike(pattern, escape="\\")
        )
    statement = statement.order_by(_tasks.c.done, _tasks.c.created_at, _tasks.c.id).limit(limit)
    async with user_transaction(engine, user_id) as conn:
        rows = (await conn.execute(statement)).all()
    return [_public(row) for row in rows]


async def get_task(*, engine: AsyncEngine, user_id: str, task_id: str) -> TaskPublic:
    """One of the user's tasks, or TaskNotFoundError (also for someone else's)."""
    async with user_transaction(engine, user_id) as conn:
        return await _one(conn, user_id, task_id)


async def _one(conn: AsyncConnection, user_id: str, task_id: str) -> TaskPublic:
    row = (
        await conn.execute(
            select(*_COLUMNS).where(_tasks.c.user_id == user_id, _tasks.c.id == task_id)
        )
    ).first()
    if row is None:
        raise TaskNotFoundError(task_id)
    return _public(row)


async def update_task(
    *,
    engine: AsyncEngine,
    user_id: str,
    task_id: str,
    changes: TaskUpdate,
    within: AsyncConnection | None = None,
) -> TaskPublic:
    """Apply `changes` to one of the user's tasks."""
    values: dict[str, Any] = changes.model_dump(
        exclude_unset=True, exclude_none=True, exclude={"clear_due_date"}
    )
    if changes.clear_due_date:
        values["due_date"] = None
    if not values:
        raise TaskInputError("Nothing to change: give a new title, notes, priority or due date.")
    values["updated_at"] = datetime.now(UTC)
    return await _update(
        engine=engine, user_id=user_id, task_id=task_id, values=values, within=within
    )


async def set_done(
    *,
    engine: AsyncEngine,
    user_id: str,
    task_id: str,
    done: bool,
    within: AsyncConnection | None = None,
) -> TaskPublic:
    """Mark one of the user's tasks done (or open again)."""
    return await _update(
        engine=engine, user_id=user_id, task_id=task_id, values=_done_values(done), within=within
    )


def _done_values(done: bool) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"done": done, "completed_at": now if done else None, "updated_at": now}


async def change_done(
    *, engine: AsyncEngine, user_id: str, task_id: str, done: bool
) -> tuple[TaskPublic, bool]:
    """Mark one of the user's tasks done (or open again) unless it is so already: the task
    as it is now, and whether this call changed it. One conditional statement, so of
    presses sent at once exactly one changes it."""
    async with user_transaction(engine, user_id) as conn:
        changed = (
            await conn.execute(
                update(_tasks)
                .where(
                    _tasks.c.user_id == user_id,
                    _tasks.c.id == task_id,
                    _tasks.c.done.is_distinct_from(done),
                )
                .values(**_done_values(done))
                .returning(*_COLUMNS)
            )
        ).first()
        if changed is not None:
            return _public(changed), True
        return await _one(conn, user_id, task_id), False


async def delete_task(
    *, engine: AsyncEngine, user_id: str, task_id: str, within: AsyncConnection | None = None
) -> TaskPublic:
    """Delete one of the user's tasks; returns what was deleted."""
    async with _transaction(engine, user_id, within) as conn:
        row = (
            await conn.execute(
                delete(_tasks)
                .where(_tasks.c.user_id == user_id, _tasks.c.id == task_id)
                .returning(*_COLUMNS)
            )
        ).first()
    if row is None:
        raise TaskNotFoundError(task_id)
    return _public(row)


async def _update(
    *,
    engine: AsyncEngine,
    user_id: str,
    task_id: str,
    values: dict[str, Any],
    within: AsyncConnection | None,
) -> TaskPublic:
    async with _transaction(engine, user_id, within) as conn:
        row = (
            await conn.execute(
                update(_tasks)
                .where(_tasks.c.user_id == user_id, _tasks.c.id == task_id)
                .values(**values)
                .returning(*_COLUMNS)
            )
        ).first()
    if row is None:
        raise TaskNotFoundError(task_id)
    return _public(row)
