"""Shared fixtures: a real PostgreSQL, the scripted model server, the app under uvicorn."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from taskchat.auth import mint_token
from taskchat.chat.store.postgres import PostgresStore
from taskchat.config import Settings
from taskchat.context import RequestContext
from taskchat.db.local import migrated_database, start_throwaway
from taskchat.db.migrate import upgrade
from tests.support.fake_openai import FakeOpenAI
from tests.support.live import LiveServer
from tests.support.settings import SCRIPTED_MODEL, make_settings
from tests.support.tokens import TokenFor


@pytest.fixture(scope="session")
def database_urls() -> Iterator[tuple[str, str | None]]:
    """A migrated database, as the app role and (when known) as a superuser:
    TEST_DATABASE_URL and TEST_SUPERUSER_DATABASE_URL, or a throwaway PostgreSQL started here."""
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        superuser = os.environ.get("TEST_SUPERUSER_DATABASE_URL")
        with migrated_database(_normalized(given)) as url:
            yield url, _normalized(superuser) if superuser else None
        return
    server, root = start_throwaway()
    try:
        asyncio.run(upgrade(server.url))
        yield server.url, server.superuser_url
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def _normalized(url: str) -> str:
    return Settings(_env_file=None, database_url=url).database_url


@pytest.fixture(scope="session")
def database_url(database_urls: tuple[str, str | None]) -> str:
    """The migrated test database, as the app's role (row-level security applies)."""
    return database_urls[0]


@pytest.fixture(scope="session")
def superuser_database_url(database_urls: tuple[str, str | None]) -> str:
    """The same database as a superuser, who sees every user's rows (row-level security
    does not apply): for checking what is left of someone, never for the app."""
    superuser = database_urls[1]
    if superuser is None:
        raise RuntimeError(
            "With TEST_DATABASE_URL, set TEST_SUPERUSER_DATABASE_URL too (a superuser on the "
            "same database): some tests look at every user's rows."
        )
    return superuser


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
