"""The JSON error shape, `{"error": <code>, "detail": <sentence>}`, and its one handler.

Routes and the services under them raise a `ProblemError` (taskchat.errors); the handler
installed here answers it. Unhandled exceptions get the same shape as a 500 from the
request-id middleware.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from taskchat.errors import ProblemError


class ProblemBody(BaseModel):
    """An error answer."""

    error: str
    """A stable, machine-readable code, such as `not_found` or `too_many_attempts`."""

    detail: str
    """What went wrong, in a sentence a person can act on."""


def problem_json(code: str, detail: str) -> bytes:
    """The body of an error answer."""
    return json.dumps({"error": code, "detail": detail}).encode()


def install_problem_handler(app: FastAPI) -> None:
    """Answer every `ProblemError` raised while serving `app` with its status and shape."""

    @app.exception_handler(ProblemError)
    async def answer(request: Request, error: ProblemError) -> JSONResponse:
        return JSONResponse(
            {"error": error.code, "detail": error.detail},
            status_code=error.status,
            headers=error.headers or None,
        )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for a route's error answers (`responses=` of a route)."""
    return {status: {"model": ProblemBody} for status in statuses}
