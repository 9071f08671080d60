"""The JSON error shape, `{"error": <code>, "detail": <sentence>}`, and its handlers.

Routes and the services under them raise a `ProblemError` (taskchat.errors); the handler
installed here answers it. A database that cannot be reached is a 503 with
Retry-After. A body or query that does not fit a route's model gets the same
shape, a 400 naming the field, and never the input echoed back. Unhandled exceptions get
the same shape as a 500 from the request-id middleware.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from taskchat.db.errors import DatabaseUnavailableError, is_unavailable
from taskchat.errors import ProblemError
from taskchat.logs import log_failure
from taskchat.text import shortened

logger = logging.getLogger("taskchat.api")

DETAIL_LIMIT = 300
"""The longest error sentence sent."""

DATABASE_ERRORS = (
    SQLAlchemyError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    # Not an InterfaceError: a connection a dropped server left mid-operation.
    asyncpg.InternalClientError,
    OSError,
)
"""What a database that cannot be reached raises, in its several shapes (db/errors.py)."""


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
            # Bounded, in case a sentence names something the client sent.
            {"error": error.code, "detail": shortened(error.detail, DETAIL_LIMIT)},
            status_code=error.status,
            headers=error.headers or None,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return await answer(request, describe_invalid(error))

    async def database(request: Request, error: Exception) -> JSONResponse:
        if not is_unavailable(error):
            raise error  # a bug, not an outage: the middleware's 500
        log_failure(logger, "database unavailable for %s", request.url.path, error=error)
        return await answer(request, DatabaseUnavailableError())

    for kind in DATABASE_ERRORS:
        app.add_exception_handler(kind, database)

    @app.exception_handler(StarletteHTTPException)
    async def framework(request: Request, error: StarletteHTTPException) -> JSONResponse:
        # What FastAPI and Starlette raise themselves: a body their JSON parser fails on
        # in a way other than invalid JSON (bytes in no UTF encoding, nesting deeper than
        # Python recurses), an unknown path, a wrong method.
        if error.status_code == 400:
            problem = ProblemError("The request body is not valid JSON.", code="invalid_json")
        else:
            code = HTTPStatus(error.status_code).phrase.lower().replace(" ", "_")
            detail = error.detail if isinstance(error.detail, str) else code
            problem = ProblemError(detail, status=error.status_code, code=code)
        problem.headers.update(error.headers or {})
        return await answer(request, problem)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for a route's error answers (`responses=` of a route)."""
    return {status: {"model": ProblemBody} for status in statuses}
