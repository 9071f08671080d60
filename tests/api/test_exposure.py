"""What the backend shows besides its API: /metrics only with its token (or outside
production), the API docs only where enabled, and sign-in bodies only of a sensible size."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from taskchat.config import Settings
from tests.support.apps import app_client
from tests.support.settings import make_settings

TOKEN = "metrics-" + "m" * 32


def production(database_url: str, **overrides: object) -> Settings:
    return make_settings(database_url, environment="production", **overrides)


async def test_metrics_are_off_in_production_without_a_token(database_url: str) -> None:
    async with app_client(production(database_url)) as http:
        response = await http.get("/metrics")
    assert response.status_code == 404
    assert "METRICS_TOKEN" in response.json()["detail"]


async def test_with_a_token_metrics_need_it(database_url: str) -> None:
    async with app_client(production(database_url, metrics_token=TOKEN)) as http:
        missing = await http.get("/metrics")
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        right = await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert missing.status_code == wrong.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert right.status_code == 200 and "taskchat_http_requests_total" in right.text


async def test_outside_production_metrics_are_open(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics")).status_code == 200


@pytest.mark.parametrize("path", ["/docs", "/openapi.json", "/redoc"])
async def test_api_docs_are_off_in_production_unless_enabled(database_url: str, path: str) -> None:
    async with app_client(production(database_url)) as http:
        assert (await http.get(path)).status_code == 404
    async with app_client(production(database_url, api_docs=True)) as http:
        assert (await http.get(path)).status_code == 200


async def test_outside_production_the_api_docs_are_served(client: httpx.AsyncClient) -> None:
    assert (await client.get("/openapi.json")).status_code == 200


@pytest.mark.parametrize("path", ["/api/auth/register", "/api/auth/login"])
async def test_sign_in_bodies_are_capped_and_never_echoed(
    client: httpx.AsyncClient, path: str
) -> None:
    padding = "p" * 100_000
    body = f'{{"email": "big@example.com", "password": "long enough pw", "name": "{padding}"}}'
    response = await client.post(
        path, content=body.encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"
    assert len(response.content) < 200

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"x" * 1000

    chunked = await client.post(
        path, content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert chunked.status_code == 413


async def test_a_caller_without_a_token_is_refused_before_its_body_is_read(
    client: httpx.AsyncClient,
) -> None:
    async def endless() -> AsyncIterator[bytes]:
        for _ in range(200):  # far over /chatkit's limit, and never read
            yield b"x" * 1000

    response = await client.post("/chatkit", content=endless())
    assert response.status_code == 401
