"""GET /metrics counts what a chat turn did."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from taskchat.config import Settings
from tests.support.fake_openai import FakeOpenAI, Reply, ToolCall
from tests.support.protocol import create_thread, post

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def _scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


async def test_a_chat_turn_is_counted(
    client: httpx.AsyncClient,
    fake_model: FakeOpenAI,
    token_for: Callable[..., str],
    new_user: Callable[[], str],
    settings: Settings,
) -> None:
    fake_model.script(
        Reply(tool_calls=[ToolCall("add_task", {"title": "Count me"})]),
        Reply(text=["Added."]),
    )
    before = await _scrape(client)
    response, events = await post(client, token_for(new_user()), create_thread("add: count me"))
    assert response.status_code == 200 and events
    after = await _scrape(client)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew("taskchat_chat_turns_total", outcome="completed") == 1
    assert grew("taskchat_tool_calls_total", tool="add_task") == 1
    assert grew("taskchat_http_requests_total", method="POST", route="/chatkit", status="200") == 1
    assert grew("taskchat_chat_stream_duration_seconds_count") == 1
    assert grew("taskchat_model_first_event_seconds_count") == 1
    assert (
        grew("taskchat_http_request_duration_seconds_count", method="POST", route="/chatkit") == 1
    )
    # Both pools, the chat statements' and SQLAlchemy's: the one budget of DATABASE_POOL_SIZE.
    assert after[("taskchat_db_pool_size", ())] == settings.database_pool_size
    assert ("taskchat_db_pool_connections", (("state", "idle"),)) in after


async def test_model_errors_are_counted(
    client: httpx.AsyncClient,
    fake_model: FakeOpenAI,
    token_for: Callable[..., str],
    new_user: Callable[[], str],
) -> None:
    fake_model.script(Reply(status=500))
    before = await _scrape(client)
    await post(client, token_for(new_user()), create_thread("fail please"))
    after = await _scrape(client)
    key = ("taskchat_errors_total", (("kind", "model"),))
    assert after.get(key, 0) - before.get(key, 0) == 1
    turns = ("taskchat_chat_turns_total", (("outcome", "error"),))
    assert after.get(turns, 0) - before.get(turns, 0) == 1


async def test_unknown_paths_share_one_label(client: httpx.AsyncClient) -> None:
    for path in ("/nope-1", "/nope-2"):
        await client.get(path)
    samples = await _scrape(client)
    routes = {
        dict(labels).get("route")
        for (name, labels) in samples
        if name == "taskchat_http_requests_total"
    }
    assert "other" in routes
    assert not any(route and route.startswith("/nope") for route in routes)


async def test_task_paths_share_one_label(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    headers = {"Authorization": f"Bearer {token_for('labeller')}"}
    for task_id in ("task_1", "task_2"):
        await client.patch(f"/api/tasks/{task_id}", json={"done": True}, headers=headers)
    samples = await _scrape(client)
    routes = {
        dict(labels).get("route")
        for (name, labels) in samples
        if name == "taskchat_http_requests_total"
    }
    assert "/api/tasks/{task_id}" in routes
    assert not any(route and route.startswith("/api/tasks/task_") for route in routes)
