"""Telling a database that cannot be reached from any other database error.

A stopped, restarting or unreachable PostgreSQL surfaces in many shapes: a refused
connection (OSError), asyncpg's connection and shutdown errors, SQLAlchemy wrapping either,
or the pool timing out while nothing can connect. Callers answer all of them the same way:
try again in a moment.
"""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from taskchat.errors import ProblemError

RETRY_AFTER_SECONDS = 5
"""What a refused request is told to wait: about what a PostgreSQL restart takes."""

_UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,  # refused or reset connections, and timeouts (connecting, or waiting for a lent one)
    PoolTimeoutError,  # no pooled connection could be had in time
    asyncpg.PostgresConnectionError,  # 08xxx: the connection failed or does not exist
    asyncpg.InterfaceError,  # the connection was closed under the query
    asyncpg.CannotConnectNowError,  # 57P03: starting up or shutting down
    asyncpg.AdminShutdownError,  # 57P01: stopped by the operator
    asyncpg.CrashShutdownError,  # 57P02: restarting after a crash
    # A pooled connection the server dropped mid-statement can be left believing an
    # operation is still running; it is dropped (db/drivers.py), and a retry gets another.
    asyncpg.InternalClientError,
)


def causes(error: BaseException) -> Iterator[BaseException]:
    """`error`, then what caused it (`__cause__`, else `__context__`), and so on."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` (or what caused it) means the database could not be reached."""
    for cause in causes(error):
        if isinstance(cause, _UNREACHABLE):
            return True
        if isinstance(cause, DBAPIError) and cause.connection_invalidated:
            return True
    return False


class DatabaseUnavailableError(ProblemError):
    """The database cannot be reached now; the request can be sent again shortly."""

    status = 503
    code = "database_unavailable"

    def __init__(self) -> None:
        super().__init__(
            "The database is unavailable right now; try again in a few seconds.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
