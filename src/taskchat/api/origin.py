"""Whom the proxy headers are believed from, and the origin a caller reached Taskchat at:
the base of URLs handed back to it.

The app reads the proxy headers itself (`taskchat serve` runs uvicorn without its own), so
one decision, made on the connection's own peer before anything replaces it, covers them
all: only a proxy in FORWARDED_ALLOW_IPS names the client's address (X-Forwarded-For), the
scheme (X-Forwarded-Proto) and the origin the browser used (X-Forwarded-Host).
"""

from __future__ import annotations

import re

from starlette.requests import HTTPConnection
from starlette.types import Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

TRUSTED_PROXY = "taskchat.trusted_proxy"
"""The scope key saying whether the connection's peer is a trusted proxy (FORWARDED_ALLOW_IPS)."""

_HOST = re.compile(
    r"(?:[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?"
)


class ProxyHeaders(ProxyHeadersMiddleware):
    """uvicorn's proxy headers (the client's address from X-Forwarded-For, the scheme from
    X-Forwarded-Proto, believed from `trusted_hosts` only), noting first whether the peer
    is one of those proxies: once the client's address replaces the peer's, nobody can
    tell any more."""

    # The two ignores: uvicorn types its middleware with its own typed-dict ASGI messages
    # (uvicorn._types), Starlette with plain mappings; at run time both are the same ASGI.
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            scope[TRUSTED_PROXY] = client is not None and client[0] in self.trusted_hosts
        await super().__call__(scope, receive, send)  # type: ignore[arg-type]


def caller_origin(connection: HTTPConnection, public_url: str) -> str:
    """The origin to build the caller's URLs on (attachment uploads and previews).

    From a trusted proxy (the frontend's): the app's origin it names in X-Forwarded-Host
    and X-Forwarded-Proto, so the browser comes back through it with its cookie; without
    them, the origin it reached us at. From anyone else: `public_url` (PUBLIC_URL, the
    backend's configured address), never something the caller wrote. A value that is not
    one plain host, or not http(s), is ignored.
    """
    if not connection.scope.get(TRUSTED_PROXY):
        return public_url
    host = connection.headers.get("x-forwarded-host", "")
    if _HOST.fullmatch(host):
        scheme = connection.headers.get("x-forwarded-proto", "")
        if scheme not in ("http", "https"):
            scheme = connection.url.scheme
        return f"{scheme}://{host}"
    return str(connection.base_url).rstrip("/")
