"""The FastAPI application: settings in, routes, middleware and services wired together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from taskchat.api import accounts, attachments, chatkit, feedback, health, metrics, mydata, tasks
from taskchat.api.deps import services_of
from taskchat.api.errors import install_problem_handler
from taskchat.api.middleware import BodyLimitMiddleware, ProxyHeaders, RequestIdMiddleware
from taskchat.api.services import running_services
from taskchat.config import Settings, get_settings
from taskchat.logs import configure_logging
from taskchat.metrics import Metrics

AUTH_BODY_MAX_BYTES = 4_096
"""The largest sign-in, registration or account-deletion body: an email, a password and a
name fit easily."""


class McpEndpoint:
    """/mcp and its metadata: the tasks MCP app of the running services.

    A class, so Starlette routes to it as an ASGI app rather than as a request handler.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        parts = await services_of(HTTPConnection(scope)).chat_parts()
        await parts.mcp_app(scope, receive, send)


MCP_PATHS = ("/mcp", "/.well-known/{metadata:path}")
"""What the tasks MCP app serves: the endpoint and its OAuth resource metadata. Routed by
path, not mounted at `/`: a catch-all mount answered every unknown path and wrong method
with the MCP app's plain-text 404 instead of the API's JSON 404 and 405."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; its services start with its lifespan (nothing connects before)."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format, settings.environment)
    # Made here, not in the lifespan: the outermost middleware counts every request.
    app_metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running_services(settings, app_metrics) as services:
            app.state.services = services
            try:
                yield
            finally:
                del app.state.services

    docs = settings.docs_enabled
    app = FastAPI(
        title="Taskchat",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["POST", "GET"],
            allow_headers=["Authorization", "Content-Type"],
        )
    install_problem_handler(app)
    app.include_router(health.router)
    app.include_router(chatkit.router)
    app.include_router(attachments.router)
    app.include_router(tasks.router)
    app.include_router(feedback.router)
    app.include_router(accounts.router)
    app.include_router(mydata.router)
    app.include_router(metrics.router)
    for path in MCP_PATHS:
        app.router.routes.append(Route(path, McpEndpoint()))
    app.add_middleware(
        BodyLimitMiddleware,
        limits={
            "/chatkit": settings.max_body_bytes,
            "/api/auth": AUTH_BODY_MAX_BYTES,
            "/api/account": AUTH_BODY_MAX_BYTES,
        },
    )
    # Outermost but one, so every response (errors and /mcp included) carries the request
    # id.
    app.add_middleware(RequestIdMiddleware, metrics=app_metrics)
    # Outermost: the proxy headers decide the client's address before anything reads it,
    # believed only from FORWARDED_ALLOW_IPS (and `taskchat serve` runs uvicorn without
    # its own, so this one decision, made on the connection's peer, is the only one).
    app.add_middleware(ProxyHeaders, trusted_hosts=settings.forwarded_allow_ips)
    return app
