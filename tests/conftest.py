"""Shared fixtures: a real PostgreSQL, the scripted model server, the app under uvicorn."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from taskchat.auth import mint_token
from taskchat.chat.store import PostgresStore
from taskchat.config import Settings
from taskchat.context import RequestContext
from taskchat.db.local import migrated_database
from tests.support.fake_openai import FakeOpenAI
from tests.support.live import LiveServer
from tests.support.settings import SCRIPTED_MODEL, make_settings
from tests.support.tokens import TokenFor


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A migrated database: TEST_DATABASE_URL, or a throwaway PostgreSQL started here."""
    given = os.environ.get("TEST_DATABASE_URL")
    normalized = Settings(_env_file=None, database_url=given).database_url if given else None
    with migrated_database(normalized) as url:
        yield url


@pytest.fixture(scope="session")
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_model(fake_openai: FakeOpenAI) -> Iterator[FakeOpenAI]:
    """The scripted model server, with an empty script and log for this test."""
    fake_openai.reset()
    yield fake_openai
    fake_openai.reset()


@pytest.fixture(scope="session")
def settings(database_url: str, fake_openai: FakeOpenAI) -> Settings:
    return make_settings(
        database_url,
        model_base_url=fake_openai.base_url,
        max_body_bytes=64_000,
        max_message_chars=2_000,
        **SCRIPTED_MODEL,
    )


@pytest.fixture(scope="session")
def live_server(settings: Settings) -> Iterator[LiveServer]:
    from taskchat.app import create_app

    server = LiveServer(create_app(settings))
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def client(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        yield http


@pytest.fixture
def token_for(settings: Settings) -> TokenFor:
    def mint(sub: str, **claims: Any) -> str:
        return mint_token(settings, sub=sub, **claims)

    return mint


@pytest.fixture
def new_user() -> Callable[[], str]:
    """A fresh user id, so tests never see each other's rows."""
    return lambda: f"user-{secrets.token_hex(6)}"


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[PostgresStore]:
    pg_store = PostgresStore.from_url(database_url)
    yield pg_store
    await pg_store.engine.dispose()


@pytest.fixture
def ctx(new_user: Callable[[], str]) -> Callable[[], RequestContext]:
    return lambda: RequestContext(user_id=new_user())
