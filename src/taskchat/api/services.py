"""Everything a request is served with, built when the app starts and closed when it stops.

`running_services()` runs inside the app's lifespan: it builds one frozen `Services`, opens
what needs opening (the database pool, the /mcp session manager, the signal hooks of the
drain), and closes all of it again, in reverse, when the app shuts down. Routes reach it
through `api/deps.py`, never through untyped app state.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp

from taskchat.accounts.limits import AttemptLimiter
from taskchat.accounts.passwords import Passwords
from taskchat.agent.llm import build_client, build_model
from taskchat.auth import TokenVerifier
from taskchat.chat.limits import TurnLimiter
from taskchat.chat.server import TaskchatServer
from taskchat.chat.store import PostgresStore
from taskchat.config import Settings
from taskchat.db.diagnose import explain, schema_problem
from taskchat.db.engine import create_engine, warm_pool
from taskchat.drain import Drain, install_signal_hooks
from taskchat.metrics import Metrics
from taskchat.tools.http import build_mcp_http
from taskchat.tools.servers import TurnTools
from taskchat.tools.tasks import list_tool_definitions

logger = logging.getLogger("taskchat")

WARM_CONNECTIONS = 2
"""Pooled connections opened at start-up, so the first requests are not slow."""


@dataclass(frozen=True, slots=True)
class Services:
    """What the routes are served with, one per running app."""

    settings: Settings
    """The app's settings."""

    engine: AsyncEngine
    """The database engine and its connection pool."""

    chat_server: TaskchatServer
    """Serves /chatkit: the ChatKit server over the user-scoped store."""

    verifier: TokenVerifier
    """Verifies bearer tokens (and remembers verified ones)."""

    passwords: Passwords
    """Hashes and checks account passwords."""

    turn_limiter: TurnLimiter
    """The per-user chat limits (turns a minute, streams at once)."""

    attempt_limiter: AttemptLimiter
    """Sign-in and registration attempt limits."""

    metrics: Metrics
    """The app's Prometheus metrics."""

    drain: Drain
    """Shutdown state: the agent runs to let finish, or cut, on SIGTERM."""

    mcp_app: ASGIApp
    """The tasks MCP server over streamable HTTP (/mcp and its metadata)."""


def freeze_startup_heap() -> None:
    """Move the start-up heap out of the garbage collector's sight, once per process.

    The imported SDKs leave a large, long-lived heap; full collections over it cost
    several milliseconds each, in the middle of chat turns. A process whose heap is
    already frozen (a second app in one process) has nothing more to gain.
    """
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


@asynccontextmanager
async def running_services(settings: Settings, metrics: Metrics) -> AsyncIterator[Services]:
    """The app's services, from start-up to shutdown.

    Whatever is opened is closed again in reverse order, also when start-up fails half-way
    (a bad setting found late, or Ctrl-C during it).
    """
    async with AsyncExitStack() as opened:
        engine = create_engine(
            settings.database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
        )
        opened.push_async_callback(engine.dispose)
        opened.callback(metrics.watch_pool(engine))
        client = build_client(settings)
        if client is not None:
            opened.push_async_callback(client.close)
        verifier = TokenVerifier(settings)
        drain = Drain()
        chat_server = TaskchatServer(
            PostgresStore(engine),
            settings=settings,
            model=build_model(settings, client) if client is not None else None,
            metrics=metrics,
            drain=drain,
            tools=TurnTools(settings, engine, await list_tool_definitions()),
        )
        mcp_server, mcp_app = build_mcp_http(settings, engine, verifier)
        services = Services(
            settings=settings,
            engine=engine,
            chat_server=chat_server,
            verifier=verifier,
            passwords=await Passwords.create(queue_seconds=settings.auth_queue_timeout_seconds),
            turn_limiter=TurnLimiter(
                engine,
                per_minute=settings.chat_turns_per_minute,
                concurrent=settings.chat_concurrent_streams,
                # A stream outlives its turn's deadline only by its last writes.
                lease_seconds=settings.model_turn_timeout_seconds + 60,
            ),
            attempt_limiter=AttemptLimiter(
                per_address=settings.auth_rate_limit_address,
                per_account_address=settings.auth_rate_limit_account,
                per_account=settings.auth_rate_limit_account_total,
            ),
            metrics=metrics,
            drain=drain,
            mcp_app=mcp_app,
        )
        try:
            await warm_pool(engine, min(WARM_CONNECTIONS, settings.database_pool_size))
            # /readyz says it too, but only to whoever asks: say it where it starts.
            if problem := await schema_problem(engine, settings.database_url):
                logger.warning("database not ready: %s", problem)
        except (OSError, SQLAlchemyError) as error:
            # Start anyway: /readyz reports the database, and the pool retries per request.
            # Said in words that name DATABASE_URL and the server; the traceback at DEBUG.
            logger.warning(
                "database not usable at start-up: %s",
                explain(error, settings.database_url) or type(error).__name__,
                exc_info=logger.isEnabledFor(logging.DEBUG),
            )
        if client is None:
            logger.warning("no model configured: chat turns will answer with a setup message")
        freeze_startup_heap()
        opened.callback(install_signal_hooks(drain, settings.shutdown_grace_seconds))
        # A mounted app's own lifespan does not run: run the MCP session manager here.
        await opened.enter_async_context(mcp_server.session_manager.run())
        yield services
