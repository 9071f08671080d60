"""Request dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from taskchat.auth import AuthError, Identity, TokenVerifier, bearer_token
from taskchat.chat.server import TaskchatServer
from taskchat.config import Settings

# Dependencies are `async def` on purpose: FastAPI runs plain `def` dependencies in a
# worker thread, a thread hop per dependency per request.


async def get_settings_dep(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_server(request: Request) -> TaskchatServer:
    """The app's ChatKit server."""
    server: TaskchatServer = request.app.state.chatkit_server
    return server


async def current_identity(request: Request) -> Identity:
    """The verified caller; AuthError (-> 401) if the token is missing or bad."""
    verifier: TokenVerifier = request.app.state.verifier
    return await verifier.verify_async(bearer_token(request.headers.get("authorization")))


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ServerDep = Annotated[TaskchatServer, Depends(get_server)]
CurrentIdentity = Annotated[Identity, Depends(current_identity)]

__all__ = ["AuthError", "CurrentIdentity", "ServerDep", "SettingsDep"]
