"""GET /api/tasks: the signed-in user's tasks, for the frontend's tasks panel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from taskchat.api.deps import CurrentIdentity, ServicesDep
from taskchat.api.errors import problem_responses
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
