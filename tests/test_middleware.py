"""Request ids: taken from a proxy's X-Request-ID when sane, made up otherwise, echoed."""

from __future__ import annotations

import re

import httpx


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
