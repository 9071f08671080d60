"""The app's services live exactly as long as its lifespan, and start again cleanly."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.requests import HTTPConnection

from taskchat.api import services as services_module
from taskchat.api.deps import services_of
from taskchat.api.services import running_services
from taskchat.app import create_app
from taskchat.config import Settings
from taskchat.metrics import Metrics
from tests.support.apps import app_client
from tests.support.tokens import TokenFor


async def test_services_exist_only_while_the_app_runs(settings: Settings) -> None:
    app = create_app(settings)
    connection = HTTPConnection({"type": "http", "app": app, "headers": []})
    with pytest.raises(RuntimeError, match="lifespan"):
        services_of(connection)
    async with app.router.lifespan_context(app):
        services = services_of(connection)
        assert services.settings is settings
        assert (await services.chat_parts()).chat_server.store.engine is services.engine
    with pytest.raises(RuntimeError, match="lifespan"):
        services_of(connection)


async def test_an_app_can_stop_and_start_again(settings: Settings) -> None:
    app = create_app(settings)
    engines = []
    for _ in range(2):
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
        ):
            engines.append(services_of(HTTPConnection({"type": "http", "app": app})).engine)
            assert (await http.get("/readyz")).status_code == 200
            metrics = (await http.get("/metrics")).text
            # One pool gauge, not one per start.
            gauges = [
                line for line in metrics.splitlines() if line.startswith("taskchat_db_pool_size ")
            ]
            assert len(gauges) == 1
            mcp = await http.post("/mcp", json={}, headers={"Host": "127.0.0.1:8000"})
            assert mcp.status_code == 401  # the MCP app answers (it wants a token)
    assert engines[0] is not engines[1]


async def test_a_start_up_cut_short_closes_what_it_had_opened(settings: Settings) -> None:
    metrics = Metrics()
    started = asyncio.Event()

    async def run() -> None:
        async with running_services(settings, metrics):
            started.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(run())
    # Start-up takes longer than this (an argon2 hash of about 0.2 s among other things):
    # the cancellation lands inside it, as a Ctrl-C during start-up would.
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not started.is_set()
    # The pool collector it had registered is gone again.
    assert metrics.registry.get_sample_value("taskchat_db_pool_size") is None


async def test_a_chat_machinery_that_fails_to_load_is_a_503_not_a_ready_backend(
    settings: Settings, token_for: TokenFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise ImportError("a broken SDK install")

    monkeypatch.setattr(services_module, "_import_chat_modules", broken)
    async with app_client(settings) as http:
        headers = {"Authorization": f"Bearer {token_for('load-fails')}"}
        listing = {"type": "threads.list", "params": {"limit": 1}}
        chat = await http.post("/chatkit", json=listing, headers=headers)
        assert chat.status_code == 503
        assert chat.json()["error"] == "chat_unavailable"
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["detail"] == "the chat service failed to start"
        assert (await http.get("/healthz")).status_code == 200
