"""An identity provider's public keys (JWKS), served on loopback for tests that verify its
tokens."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.live import LiveServer


@contextmanager
def jwks_served(key: RSAPrivateKey, kid: str) -> Iterator[LiveServer]:
    """`key`'s public half as an RS256 JWKS at `<url>/jwks.json`, under `kid`."""
    public = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    public.update({"kid": kid, "use": "sig", "alg": "RS256"})

    async def keys(request: Request) -> JSONResponse:
        return JSONResponse({"keys": [public]})

    server = LiveServer(Starlette(routes=[Route("/jwks.json", keys)]))
    server.start()
    try:
        yield server
    finally:
        server.stop()
