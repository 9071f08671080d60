"""Request ids: taken from a proxy's X-Request-ID when sane, made up otherwise, echoed."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.routing import APIRoute

from taskchat.app import create_app
from taskchat.config import Settings


async def test_a_proxys_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "proxy-1234.abc"})
    assert response.headers["x-request-id"] == "proxy-1234.abc"


async def test_without_one_an_id_is_made(client: httpx.AsyncClient) -> None:
    first = (await client.get("/healthz")).headers["x-request-id"]
    second = (await client.get("/healthz")).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second


async def test_an_unsafe_id_is_replaced(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_error_answers_carry_the_id_too(client: httpx.AsyncClient) -> None:
    response = await client.post("/chatkit", json={}, headers={"X-Request-ID": "req-401"})
    assert response.status_code == 401
    assert response.headers["x-request-id"] == "req-401"


async def test_an_unhandled_error_is_a_500_with_the_id_logged_and_counted(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings)

    async def boom() -> None:
        raise RuntimeError("a bug")

    # First, ahead of the catch-all /mcp mount.
    app.router.routes.insert(0, APIRoute("/boom", boom))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        response = await http.get("/boom", headers={"X-Request-ID": "req-boom"})
        metrics = (await http.get("/metrics")).text
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-boom"
    assert response.json()["error"] == "internal_error"
    assert 'taskchat_errors_total{kind="unhandled"} 1.0' in metrics
    logged = [record for record in caplog.records if record.name == "taskchat.errors"]
    assert logged and getattr(logged[0], "request_id", None) == "req-boom"
