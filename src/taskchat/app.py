"""The FastAPI application."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from taskchat.accounts.limits import AttemptLimiter
from taskchat.agent.models import build_client
from taskchat.api import accounts, chatkit, health, metrics, tasks
from taskchat.api.problems import problem
from taskchat.auth import AuthError, TokenVerifier
from taskchat.chat.server import TaskchatServer
from taskchat.chat.store import PostgresStore
from taskchat.config import Settings, get_settings
from taskchat.db.engine import create_engine, warm_pool
from taskchat.drain import install_signal_hooks
from taskchat.logs import configure_logging
from taskchat.metrics import Metrics
from taskchat.middleware import RequestIdMiddleware
from taskchat.tools.http import build_mcp_http

logger = logging.getLogger("taskchat")

WARM_CONNECTIONS = 2


_frozen: list[bool] = []


def freeze_startup_heap() -> None:
    """Once per process: move the start-up heap out of the garbage collector's sight.

    The imported SDKs leave a large, long-lived heap; full collections over it cost
    several milliseconds each, in the middle of chat turns.
    """
    if not _frozen:
        _frozen.append(True)
        gc.collect()
        gc.freeze()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; nothing connects until the lifespan starts."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format, settings.environment)
    engine = create_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )
    store = PostgresStore(engine)
    client = build_client(settings)
    app_metrics = Metrics()
    app_metrics.watch_pool(engine)

    verifier = TokenVerifier(settings)
    mcp_server, mcp_app = build_mcp_http(settings, engine, verifier)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await warm_pool(engine, min(WARM_CONNECTIONS, settings.database_pool_size))
        except (OSError, SQLAlchemyError) as error:
            # Start anyway: /readyz reports the database, and the pool retries per request.
            logger.warning("database not reachable at start-up: %s", type(error).__name__)
        if client is None:
            logger.warning("no model configured: chat turns will answer with a setup message")
        freeze_startup_heap()
        restore_signals = install_signal_hooks(settings.shutdown_grace_seconds)
        try:
            # A mounted MCP app's own lifespan does not run: run its session manager here.
            async with mcp_server.session_manager.run():
                yield
        finally:
            restore_signals()
            if client is not None:
                await client.close()
            await engine.dispose()

    app = FastAPI(title="Taskchat", lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.store = store
    app.state.verifier = verifier
    app.state.attempt_limiter = AttemptLimiter(
        settings.auth_rate_limit_account, settings.auth_rate_limit_address
    )
    app.state.metrics = app_metrics
    app.state.chatkit_server = TaskchatServer(store, settings, client, app_metrics)

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["POST", "GET"],
            allow_headers=["Authorization", "Content-Type"],
        )

    @app.exception_handler(AuthError)
    async def _unauthorized(request: Request, error: AuthError) -> JSONResponse:
        return problem(401, "unauthorized", error.reason, headers={"WWW-Authenticate": "Bearer"})

    app.include_router(health.router)
    app.include_router(chatkit.router)
    app.include_router(tasks.router)
    app.include_router(accounts.router)
    app.include_router(metrics.router)
    # Last, so the API routes above match first: /mcp and its OAuth resource metadata.
    app.mount("/", mcp_app)
    # Outermost, so every response (errors and /mcp included) carries the request id.
    app.add_middleware(RequestIdMiddleware, metrics=app_metrics)
    return app
