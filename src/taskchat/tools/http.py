"""The tasks MCP server over streamable HTTP at /mcp, for other MCP clients.

Clients authenticate with the same JWTs as /chatkit (`Authorization: Bearer`); the MCP
SDK's bearer middleware asks `JWTAccessTokens` to verify them, and the tools act for the
token's subject only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from taskchat.accounts.revocations import revoked
from taskchat.auth import AuthError, TokenVerifier
from taskchat.config import Settings, get_settings
from taskchat.db.engine import close_engine, create_engine
from taskchat.logs import configure_logging
from taskchat.tools.tasks import shared_tasks_server

MCP_PATH = "/mcp"


class JWTAccessTokens:
    """The MCP SDK's token verifier protocol, backed by Taskchat's JWT verification."""

    def __init__(self, verifier: TokenVerifier) -> None:
        self._verifier = verifier

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            identity = await self._verifier.verify_async(token)
        except AuthError:
            return None
        exp = identity.claims.get("exp")
        return AccessToken(
            token=token,
            client_id=identity.user_id,
            scopes=[],
            expires_at=int(exp) if isinstance(exp, int | float) else None,
            subject=identity.user_id,
        )


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """Accept the public URL's host, loopback, and MCP_ALLOWED_HOSTS; nothing else."""
    public = urlsplit(settings.public_url)
    hosts = [public.netloc, "127.0.0.1:*", "localhost:*", "[::1]:*", *settings.mcp_allowed_hosts]
    origins = [
        f"{public.scheme}://{public.netloc}",
        "http://127.0.0.1:*",
        "http://localhost:*",
        "http://[::1]:*",
    ]
    return TransportSecuritySettings(allowed_hosts=hosts, allowed_origins=origins)


def build_mcp_http(
    settings: Settings, engine: AsyncEngine, verifier: TokenVerifier
) -> tuple[MCPServer[Any], Starlette]:
    """The shared tasks server and its Starlette app (routes: /mcp and its metadata)."""
    server = shared_tasks_server(
        engine,
        token_verifier=JWTAccessTokens(verifier),
        auth=AuthSettings(
            issuer_url=settings.public_url,
            resource_server_url=settings.public_url + MCP_PATH,
            # Our verifier checks the token's audience (JWT_AUDIENCE) itself.
            validate_token_resource=False,
        ),
        log_level="WARNING",
    )
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        # No per-process session state, so any backend replica can answer any request.
        stateless_http=True,
        transport_security=transport_security(settings),
    )
    return server, app


def create_mcp_app(settings: Settings | None = None) -> Starlette:
    """The tasks MCP server alone (`taskchat mcp`): /mcp, its metadata, and /healthz."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format, settings.environment)
    engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
    verifier = TokenVerifier(settings, revoked=lambda identity: revoked(engine, identity))
    server, mcp_app = build_mcp_http(settings, engine, verifier)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            async with server.session_manager.run():
                yield
        finally:
            await close_engine(engine)

    return Starlette(
        routes=[Route("/healthz", healthz), Mount("/", app=mcp_app)], lifespan=lifespan
    )
