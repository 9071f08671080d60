"""One error path: a raised ProblemError is answered with its status, code, sentence and
headers; the routes keep their response models in OpenAPI."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.routing import APIRoute

from taskchat.app import create_app
from taskchat.config import Settings
from taskchat.errors import ProblemError, ResourceNotFoundError


async def test_a_raised_problem_becomes_its_json_answer(settings: Settings) -> None:
    app = create_app(settings)

    async def teapot() -> None:
        raise ProblemError(
            "Short and stout.", status=418, code="teapot", headers={"Retry-After": "7"}
        )

    async def gone() -> None:
        raise ResourceNotFoundError("Nothing here.")

    # First, ahead of the catch-all /mcp mount.
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
