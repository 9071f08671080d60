"""Start-up database failures in one or two lines: which setting, which server, what next.

A connection failure surfaces from asyncpg, wrapped by SQLAlchemy and again by alembic,
as hundreds of lines of traceback that never say DATABASE_URL. `explain` walks the
chain of causes and names the setting, the host and port, and the next step.
"""

from __future__ import annotations

import socket

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.db.errors import causes


def where(url: str) -> tuple[str, str, str]:
    """(host:port, user, database) of a SQLAlchemy URL; never its password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return ("?", "?", "?")
    return (
        f"{parsed.host or 'localhost'}:{parsed.port or 5432}",
        parsed.username or "?",
        parsed.database or "?",
    )


def explain(error: BaseException, url: str, source: str = "DATABASE_URL") -> str | None:
    """One or two lines about a failure to reach or use the database at `url`, or None
    when `error` is not one of the failures this knows (then the traceback is the news)."""
    address, user, database = where(url)
    for cause in causes(error):
        if isinstance(cause, asyncpg.InvalidPasswordError):
            return (
                f"PostgreSQL at {address} refused the password of user {user!r} ({source}).\n"
                f"Fix the user or password in {source}."
            )
        if isinstance(cause, asyncpg.InvalidAuthorizationSpecificationError):
            return (
                f"PostgreSQL at {address} refused user {user!r} ({source}): {cause}.\n"
                f"Fix the user in {source}, or allow it in the server's pg_hba.conf."
            )
        if isinstance(cause, asyncpg.InvalidCatalogNameError):
            return (
                f"database {database!r} does not exist at {address} ({source}).\n"
                f"Create it (createdb -h HOST -p PORT -U USER {database}) or fix {source}."
            )
        if isinstance(cause, socket.gaierror):
            return (
                f"cannot resolve the host of {source} ({address}): {cause.strerror}.\n"
                f"Fix the host in {source}."
            )
        if isinstance(cause, (ConnectionRefusedError, TimeoutError, OSError)):
            reason = "connection refused" if isinstance(cause, ConnectionRefusedError) else cause
            return (
                f"cannot reach PostgreSQL at {address} ({source}): {reason}.\n"
                f"Start PostgreSQL there, or set {source} to a server that runs "
                "(unset in development: `make dev` starts one)."
            )
    return None


def unmigrated(
    url: str, current: str | None, head: str | None, source: str = "DATABASE_URL"
) -> str:
    """The line for a database whose schema is not at the code's migration head."""
    address, _, database = where(url)
    return (
        f"database {database!r} at {address} ({source}) is at migration {current}, "
        f"the code expects {head}: run `taskchat migrate` (or `make migrate`)."
    )


async def schema_problem(engine: AsyncEngine, url: str) -> str | None:
    """The line for a reachable database whose schema is not the code's, or None."""
    from taskchat.db.migrate import current_revision, head_revision

    current, head = await current_revision(engine), head_revision()
    return None if current == head else unmigrated(url, current, head)
