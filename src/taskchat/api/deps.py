"""What routes depend on, typed: the app's services and the verified caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from taskchat.api.services import Services
from taskchat.auth import bearer_token
from taskchat.context import Identity


def services_of(connection: HTTPConnection) -> Services:
    """The services of the app serving `connection` (set up by its lifespan)."""
    services = getattr(connection.app.state, "services", None)
    if not isinstance(services, Services):
        raise RuntimeError("Taskchat's services are not running: serve the app with its lifespan")
    return services


# `async def` on purpose: FastAPI runs a plain `def` dependency in a worker thread, a
# thread hop per request.
async def get_services(request: Request) -> Services:
    """The app's services."""
    return services_of(request)


ServicesDep = Annotated[Services, Depends(get_services)]


async def current_identity(request: Request) -> Identity:
    """The verified caller; AuthError (-> 401) if the token is missing or bad."""
    token = bearer_token(request.headers.get("authorization"))
    # The accessor, not ServicesDep: each dependency FastAPI resolves adds Python calls to
    # a request, and every /chatkit request passes through here.
    return await services_of(request).verifier.verify_async(token)


CurrentIdentity = Annotated[Identity, Depends(current_identity)]

__all__ = ["CurrentIdentity", "ServicesDep", "services_of"]
