"""Everything a request is served with, built when the app starts and closed when it stops.

`running_services()` runs inside the app's lifespan: it builds one frozen `Services`, opens
what needs opening (the database pool, the /mcp session manager, the signal hooks of the
drain), and closes all of it again, in reverse, when the app shuts down. Routes reach it
through `api/deps.py`, never through untyped app state.

The chat machinery (`ChatParts`: the ChatKit server, the model client, the tasks MCP app)
is loaded in the background once the lifespan has started, not before it: its SDKs
(chatkit.server pulls in openai-agents and openai, the MCP server mcp's server side) take
longer to import than the rest of the app together (bench/startup.py). The server answers
meanwhile; /chatkit and /mcp wait for the load (`Services.chat_parts()`), and /readyz says
unavailable if it failed.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio
import asyncpg
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp

from taskchat.accounts.attempts import AttemptLimiter
from taskchat.accounts.passwords import Passwords
from taskchat.accounts.revocations import RevocationWatch
from taskchat.auth import TokenVerifier
from taskchat.chat.admission import TurnLimiter
from taskchat.config import Settings
from taskchat.db.diagnose import explain, schema_problem
from taskchat.db.drivers import drivers_of
from taskchat.db.engine import close_engine, create_engine, warm_pool
from taskchat.drain import Drain, install_signal_hooks
from taskchat.errors import ProblemError
from taskchat.files.sweep import run_sweeps
from taskchat.logs import log_failure
from taskchat.metrics import LentConnections, Metrics

if TYPE_CHECKING:
    # Imported for real in `_load_chat`, in the background (see the module's docstring).
    from taskchat.chat.server import TaskchatServer

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

    verifier: TokenVerifier
    """Verifies bearer tokens (and remembers verified ones)."""

    revocations: RevocationWatch
    """Whether a token was revoked (its person's data deleted), kept current in memory."""

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

    chat_loaded: asyncio.Future[ChatParts]
    """The chat machinery, once loaded in the background; see `chat_parts()`."""

    async def chat_parts(self) -> ChatParts:
        """The chat machinery; waits for it while it loads (only just after start-up).

        A 503 if the load failed (the log says why).
        """
        if not self.chat_loaded.done():
            # Shielded: a request that gives up waiting must not cancel the load for all.
            await asyncio.wait([asyncio.shield(self.chat_loaded)])
        if self.chat_failure() is not None:
            raise ProblemError(
                "The chat service could not start; see the server's log.",
                code="chat_unavailable",
                status=503,
            )
        return self.chat_loaded.result()

    def chat_failure(self) -> BaseException | None:
        """Why the chat machinery could not be loaded, if it could not."""
        if not self.chat_loaded.done() or self.chat_loaded.cancelled():
            return None
        return self.chat_loaded.exception()


@dataclass(frozen=True, slots=True)
class ChatParts:
    """What /chatkit and /mcp are served with, loaded after start-up."""

    chat_server: TaskchatServer
    """Serves /chatkit: the ChatKit server over the user-scoped store."""

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
        opened.push_async_callback(close_engine, engine)
        drivers = drivers_of(engine)
        opened.callback(
            metrics.watch_pool(
                engine, lambda: LentConnections(drivers.open, drivers.idle, drivers.size)
            )
        )
        revocations = RevocationWatch(engine)
        verifier = TokenVerifier(settings, revoked=revocations.revoked)
        drain = Drain()
        chat_loaded: asyncio.Future[ChatParts] = asyncio.get_running_loop().create_future()
        # Nobody may ever await it (no chat request before shutdown): a failure is logged
        # by the load itself, not as "exception never retrieved".
        chat_loaded.add_done_callback(lambda done: done.cancelled() or done.exception())
        opened.callback(chat_loaded.cancel)
        # Its dummy argon2 hash (a fraction of a second, in a worker thread) overlaps the
        # pool's warm-up rather than coming before it.
        passwords = asyncio.ensure_future(
            Passwords.create(queue_seconds=settings.auth_queue_timeout_seconds)
        )
        opened.callback(passwords.cancel)
        try:
            await warm_pool(engine, min(WARM_CONNECTIONS, settings.database_pool_size))
            # /readyz says it too, but only to whoever asks: say it where it starts.
            if problem := await schema_problem(engine, settings.database_url):
                logger.warning("database not ready: %s", problem)
        except (OSError, SQLAlchemyError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            # Start anyway: /readyz reports the database, and the pools retry per request.
            # (asyncpg's errors come unwrapped from the connections lent for one-statement
            # round trips.) Said in words that name DATABASE_URL and the server; the
            # traceback at DEBUG.
            logger.warning(
                "database not usable at start-up: %s",
                explain(error, settings.database_url) or type(error).__name__,
                exc_info=logger.isEnabledFor(logging.DEBUG),
            )
        services = Services(
            settings=settings,
            engine=engine,
            verifier=verifier,
            revocations=revocations,
            passwords=await passwords,
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
            chat_loaded=chat_loaded,
        )
        # Before the database closes: the slots of streams that ended are given back (a
        # stream cancelled after this, at the end of the shutdown grace, is left to its lease).
        opened.push_async_callback(services.turn_limiter.aclose)
        # The load runs in this task group for as long as the app does (it holds the MCP
        # session manager open); shutdown cancels it, before anything else is closed.
        background = await opened.enter_async_context(anyio.create_task_group())
        opened.callback(background.cancel_scope.cancel)
        background.start_soon(_load_chat, services)
        # Until it has loaded the revocations, every token is checked against the database.
        background.start_soon(revocations.run)
        # Unsent attachments older than a day, every hour (files/sweep.py).
        background.start_soon(run_sweeps, engine)
        opened.callback(install_signal_hooks(drain, settings.shutdown_grace_seconds))
        yield services


def _import_chat_modules() -> None:
    """The chat machinery's modules, with the SDKs under them (run in a worker thread, so
    the event loop keeps answering while they load)."""
    import taskchat.agent.llm
    import taskchat.chat.server
    import taskchat.tools.http
    import taskchat.tools.servers
    import taskchat.tools.tasks  # noqa: F401
    from taskchat.chat.request import chatkit_request

    chatkit_request()  # built here rather than in the first /chatkit request


async def _load_chat(services: Services) -> None:
    """Load the chat machinery, hand it to `services`, and keep the /mcp session manager
    running until cancelled (shutdown)."""
    settings, engine = services.settings, services.engine
    try:
        async with AsyncExitStack() as opened:
            await asyncio.to_thread(_import_chat_modules)
            from taskchat._sdk.seams import Seams, install
            from taskchat.agent.llm import (
                build_client,
                build_http_client,
                build_model,
                build_transport,
            )
            from taskchat.chat.server import TaskchatServer
            from taskchat.chat.store.postgres import PostgresStore
            from taskchat.chat.titles import title_call
            from taskchat.tools.http import build_mcp_http
            from taskchat.tools.servers import TurnTools
            from taskchat.tools.tasks import list_tool_definitions

            install(Seams.of(settings))
            # The model calls' connections (closing the client closes them, and is closing
            # the openai client's).
            transport = build_transport()
            http = build_http_client(settings, transport)
            opened.push_async_callback(http.aclose)
            client = build_client(settings, http)
            if client is None:
                logger.warning("no model configured: chat turns will answer with a setup message")
            chat_server = TaskchatServer(
                PostgresStore(engine),
                settings=settings,
                model=build_model(settings, client) if client is not None else None,
                titler=title_call(settings, client, transport) if client is not None else None,
                metrics=services.metrics,
                drain=services.drain,
                tools=TurnTools(settings, engine, await list_tool_definitions()),
            )
            # Closed before the database is: its title calls may still be writing.
            opened.push_async_callback(chat_server.aclose)
            mcp_server, mcp_app = build_mcp_http(settings, engine, services.verifier)
            # A mounted app's own lifespan does not run: run the MCP session manager here.
            await opened.enter_async_context(mcp_server.session_manager.run())
            freeze_startup_heap()
            services.chat_loaded.set_result(ChatParts(chat_server=chat_server, mcp_app=mcp_app))
            await asyncio.Event().wait()  # until shutdown cancels it
    except Exception as error:
        log_failure(logger, "could not load the chat machinery", error=error)
        if not services.chat_loaded.done():
            services.chat_loaded.set_exception(error)
