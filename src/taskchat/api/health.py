"""Liveness and readiness."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from taskchat.db.migrate import current_revision, head_revision

logger = logging.getLogger("taskchat.health")

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(request: Request) -> JSONResponse:
    """The database answers and its schema is at the code's migration head."""
    head = head_revision()
    try:
        current = await current_revision(request.app.state.engine)
    except (SQLAlchemyError, OSError) as error:
        logger.warning("readiness: database unreachable: %s", type(error).__name__)
        return JSONResponse(
            {"status": "unavailable", "detail": "database unreachable"}, status_code=503
        )
    if current != head:
        return JSONResponse(
            {
                "status": "unavailable",
                "detail": f"database at migration {current}, code expects {head}; "
                "run `taskchat migrate`",
            },
            status_code=503,
        )
    return JSONResponse({"status": "ready", "migration": current})
