"""A separately configured app for one test, and a client that talks to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from taskchat.app import create_app
from taskchat.config import Settings
from tests.support.fake_openai import FakeOpenAI

SCRIPTED_MODEL: dict[str, Any] = {
    "model_provider": "openai_compatible",
    "model_name": "scripted-model",
    "openai_api_key": "test-key",
    "model_max_retries": 0,
    "model_timeout_seconds": 10,
    # Every test signs in from 127.0.0.1: the per-address limit is tested on its own.
    "auth_rate_limit_address": "10000/minute",
}
"""Settings for the scripted model server (add its `model_base_url`)."""


def scripted_settings(
    make: Any, database_url: str, fake_model: FakeOpenAI, **overrides: Any
) -> Settings:
    """Settings whose model is the scripted chat-completions server, plus `overrides`."""
    values: dict[str, Any] = {
        "model_provider": "openai_compatible",
        "model_base_url": fake_model.base_url,
        "model_max_retries": 0,
    }
    values.update(overrides)
    settings: Settings = make(database_url, **values)
    return settings


@asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app built from `settings`, started (lifespan) and reached over ASGI."""
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        yield http
