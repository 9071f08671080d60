"""Liveness and readiness."""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from taskchat.api.deps import ServicesDep
from taskchat.db.migrate import current_revision, head_revision

logger = logging.getLogger("taskchat.health")

router = APIRouter()


class Liveness(BaseModel):
    """The process answers."""

    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """Whether this backend can serve requests; `detail` says why not."""

    status: Literal["ready", "unavailable"]
    migration: str | None = None
    """The database's migration, when ready."""
    detail: str | None = None
    """What to fix, when unavailable."""


@router.get("/healthz")
async def healthz() -> Liveness:
    """The process is up."""
    return Liveness()


@router.get(
    "/readyz",
    response_model_exclude_none=True,
    responses={503: {"model": Readiness, "description": "Not ready; `detail` says why."}},
)
async def readyz(response: Response, services: ServicesDep) -> Readiness:
    """The database answers, its schema is at the code's migration head, and the chat
    machinery has not failed to load.

    Ready does not wait for that load (api/services.py) to finish: /chatkit and /mcp wait
    for it themselves, once, and it costs seconds of start-up that nothing else needs.
    """
    head = head_revision()
    try:
        current = await current_revision(services.engine)
    except (SQLAlchemyError, OSError) as error:
        logger.warning("readiness: database unreachable: %s", type(error).__name__)
        response.status_code = 503
        return Readiness(status="unavailable", detail="database unreachable")
    if current != head:
        response.status_code = 503
        return Readiness(
            status="unavailable",
            detail=f"database at migration {current}, code expects {head}; run `taskchat migrate`",
        )
    if services.chat_failure() is not None:
        # /chatkit and /mcp answer 503 until a restart: take this backend out of rotation.
        response.status_code = 503
        return Readiness(status="unavailable", detail="the chat service failed to start")
    return Readiness(status="ready", migration=current)
