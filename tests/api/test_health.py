"""Liveness and readiness."""

from __future__ import annotations

import httpx

from taskchat.db.migrate import head_revision
from tests.support.apps import app_client
from tests.support.ports import free_port
from tests.support.settings import make_settings


async def test_healthz_and_readyz_on_a_migrated_database(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "migration": head_revision()}


async def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    url = f"postgresql+asyncpg://nobody:nothing@127.0.0.1:{free_port()}/none"
    async with app_client(make_settings(url)) as http:
        assert (await http.get("/healthz")).status_code == 200
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["detail"] == "database unreachable"


async def test_the_app_starts_when_the_database_refuses_it(database_url: str) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(database_url).set(database="no_such_database").render_as_string(False)
    async with app_client(make_settings(url)) as http:
        ready = await http.get("/readyz")
        assert ready.status_code == 503
