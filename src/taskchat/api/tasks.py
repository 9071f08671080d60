"""The tasks panel's API: GET /api/tasks lists the signed-in user's tasks, and
PATCH /api/tasks/{task_id} marks one done or open again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict

from taskchat.api.deps import CurrentIdentity, ServicesDep
from taskchat.api.errors import problem_responses
from taskchat.errors import ResourceNotFoundError
from taskchat.tasks import service
from taskchat.tasks.schemas import Status, TaskPublic
from taskchat.text import check_text

router = APIRouter()


class TaskList(BaseModel):
    """A page of tasks."""

    data: list[TaskPublic]


@router.get("/api/tasks", responses=problem_responses(400, 401))
async def list_tasks(
    identity: CurrentIdentity,
    services: ServicesDep,
    status: Annotated[Status, Query(description="open, done or all")] = "open",
    q: Annotated[str | None, Query(max_length=200, description="text to look for")] = None,
    limit: Annotated[int, Query(ge=1, le=service.LIST_LIMIT_MAX)] = 50,
) -> TaskList:
    """The caller's tasks, open ones first."""
    if q is not None:
        check_text(q, "q")
    tasks = await service.list_tasks(
        engine=services.engine,
        user_id=identity.user_id,
        status=status,
        query=q,
        limit=limit,
    )
    return TaskList(data=tasks)


TASK_ID_MAX = 100
"""Longer than any id we make (`task_` and 24 hex digits); longer ones are refused unread."""


class TaskDone(BaseModel):
    """The one change the panel makes: done, or open again."""

    model_config = ConfigDict(extra="forbid", strict=True)

    done: bool


@router.patch("/api/tasks/{task_id}", responses=problem_responses(400, 401, 404))
async def set_task_done(
    identity: CurrentIdentity,
    services: ServicesDep,
    task_id: Annotated[str, Path(max_length=TASK_ID_MAX)],
    change: TaskDone,
) -> TaskPublic:
    """Mark one of the caller's tasks done, or open again; answers the task as it now is.

    Another user's task answers 404, exactly like one that does not exist.
    """
    check_text(task_id, "task_id")
    try:
        return await service.set_done(
            engine=services.engine,
            user_id=identity.user_id,
            task_id=task_id,
            done=change.done,
        )
    except service.TaskNotFoundError:
        # The service's own sentence points the model at list_tasks; a person needs this.
        raise ResourceNotFoundError("That task no longer exists; refresh the list.") from None
