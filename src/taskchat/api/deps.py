"""Request dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from taskchat.auth import Identity, TokenVerifier, bearer_token


# `async def` on purpose: FastAPI runs a plain `def` dependency in a worker thread, a
# thread hop per request.
async def current_identity(request: Request) -> Identity:
    """The verified caller; AuthError (-> 401) if the token is missing or bad."""
    verifier: TokenVerifier = request.app.state.verifier
    return await verifier.verify_async(bearer_token(request.headers.get("authorization")))


CurrentIdentity = Annotated[Identity, Depends(current_identity)]

__all__ = ["CurrentIdentity"]
