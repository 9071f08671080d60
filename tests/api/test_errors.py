"""One error path: a raised ProblemError is answered with its status, code, sentence and
headers; the routes keep their response models in OpenAPI."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
from fastapi.routing import APIRoute

from taskchat.app import create_app
from taskchat.config import Settings
from taskchat.errors import ProblemError, ResourceNotFoundError
from tests.support.tokens import TokenFor


async def test_a_raised_problem_becomes_its_json_answer(settings: Settings) -> None:
    app = create_app(settings)

    async def teapot() -> None:
        raise ProblemError(
            "Short and stout.", status=418, code="teapot", headers={"Retry-After": "7"}
        )

    async def gone() -> None:
        raise ResourceNotFoundError("Nothing here.")

    app.router.routes[0:0] = [APIRoute("/teapot", teapot), APIRoute("/gone", gone)]
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        answer = await http.get("/teapot", headers={"X-Request-ID": "req-teapot"})
        missing = await http.get("/gone")
    assert answer.status_code == 418
    assert answer.json() == {"error": "teapot", "detail": "Short and stout."}
    assert answer.headers["retry-after"] == "7" and answer.headers["x-request-id"] == "req-teapot"
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "detail": "Nothing here."}


def response_schema(spec: dict[str, Any], path: str, method: str, status: str) -> Any:
    content = spec["paths"][path][method]["responses"][status]["content"]
    return content["application/json"]["schema"]


async def test_openapi_keeps_every_routes_answers(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    ref = "#/components/schemas/"
    assert response_schema(spec, "/api/auth/register", "post", "201") == {
        "$ref": ref + "SessionOut"
    }
    assert response_schema(spec, "/api/auth/login", "post", "200") == {"$ref": ref + "SessionOut"}
    for path, method, status in [
        ("/api/auth/register", "post", "400"),
        ("/api/auth/register", "post", "409"),
        ("/api/auth/login", "post", "401"),
        ("/api/auth/login", "post", "429"),
        ("/api/tasks", "get", "401"),
        ("/chatkit", "post", "404"),
        ("/chatkit", "post", "413"),
    ]:
        assert response_schema(spec, path, method, status) == {"$ref": ref + "ProblemBody"}
    assert response_schema(spec, "/readyz", "get", "200") == {"$ref": ref + "Readiness"}
    assert response_schema(spec, "/readyz", "get", "503") == {"$ref": ref + "Readiness"}
    assert response_schema(spec, "/healthz", "get", "200") == {"$ref": ref + "Liveness"}
    assert response_schema(spec, "/api/tasks", "get", "200") == {"$ref": ref + "TaskList"}
    chatkit = spec["paths"]["/chatkit"]["post"]["responses"]["200"]["content"]
    assert set(chatkit) == {"text/event-stream", "application/json"}


async def test_readiness_answers_keep_their_shape(client: httpx.AsyncClient) -> None:
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert set(ready.json()) == {"status", "migration"} and ready.json()["status"] == "ready"


async def test_what_the_framework_refuses_has_the_same_shape(client: httpx.AsyncClient) -> None:
    unknown = await client.get("/no-such-page")
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    wrong_method = await client.get("/chatkit")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"] == "method_not_allowed"
    assert "POST" in wrong_method.headers["allow"]
    # Bytes in no UTF encoding: FastAPI's own body parser refuses them.
    unreadable = await client.post(
        "/api/auth/login", content=b"\xff\xfe\xfd", headers={"content-type": "application/json"}
    )
    assert unreadable.status_code == 400
    assert unreadable.json() == {
        "error": "invalid_json",
        "detail": "The request body is not valid JSON.",
    }


async def test_an_answer_never_echoes_a_large_input(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    token = token_for("echo-test-user")
    huge = "x" * 5_000
    unknown_type = await client.post(
        "/chatkit", json={"type": huge, "params": {}}, headers={"Authorization": f"Bearer {token}"}
    )
    missing = await client.post(
        "/chatkit",
        json={"type": "threads.get_by_id", "params": {"thread_id": huge}},
        headers={"Authorization": f"Bearer {token}"},
    )
    for answer in (unknown_type, missing):
        assert answer.status_code in (400, 404), answer.text[:200]
        assert len(answer.json()["detail"]) <= 300


async def test_a_connection_left_mid_operation_is_a_503_not_a_500(settings: Settings) -> None:
    app = create_app(settings)

    async def busy() -> None:
        # What asyncpg raises on a pooled connection a dropped server left mid-operation.
        raise asyncpg.InternalClientError(
            "cannot switch to state 15; another operation is in progress"
        )

    app.router.routes[0:0] = [APIRoute("/busy", busy)]
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        answer = await http.get("/busy")
    assert answer.status_code == 503 and answer.json()["error"] == "database_unavailable"
    assert int(answer.headers["retry-after"]) > 0
