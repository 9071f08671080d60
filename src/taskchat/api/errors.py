"""The JSON error shape, `{"error": <code>, "detail": <sentence>}`, and its handlers.

Routes and the services under them raise a `ProblemError` (taskchat.errors); the handler
installed here answers it. A body or query that does not fit a route's model gets the same
shape, a 400 naming the field, and never the input echoed back. Unhandled exceptions get
the same shape as a 500 from the request-id middleware.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
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


# Where a request's part sits; the field's own name is what a person needs.
_PARTS = frozenset({"body", "query", "path", "header", "cookie"})


def describe_invalid(error: RequestValidationError) -> ProblemError:
    """The first problem of a request that did not validate, as a 400 naming the field.

    FastAPI's own 422 lists every problem with the input echoed back: a large body came
    back whole, and a password in it would be repeated to whoever sent it.
    """
    first = error.errors()[0]
    if first.get("type") == "json_invalid":
        return ProblemError("The request body is not valid JSON.", code="invalid_json")
    field = ".".join(str(part) for part in first.get("loc", ()) if part not in _PARTS)
    message = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
    return ProblemError(f"{field or 'body'}: {message}", code="invalid_input")


def install_problem_handler(app: FastAPI) -> None:
    """Answer every `ProblemError` raised while serving `app` with its status and shape,
    and a request that does not fit a route's model as one."""

    @app.exception_handler(ProblemError)
    async def answer(request: Request, error: ProblemError) -> JSONResponse:
        return JSONResponse(
            {"error": error.code, "detail": error.detail},
            status_code=error.status,
            headers=error.headers or None,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return await answer(request, describe_invalid(error))


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for a route's error answers (`responses=` of a route)."""
    return {status: {"model": ProblemBody} for status in statuses}
