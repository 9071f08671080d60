"""The tasks MCP server at /mcp over streamable HTTP, authenticated with the same JWTs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from agents.mcp import MCPServerStreamableHttp

from taskchat.chat.store.postgres import PostgresStore
from taskchat.tasks import service
from taskchat.tasks.schemas import TaskCreate
from tests.support.live import LiveServer
from tests.support.tokens import TokenFor


def client_for(live_server: LiveServer, token: str | None) -> MCPServerStreamableHttp:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return MCPServerStreamableHttp(
        params={"url": f"{live_server.url}/mcp", "headers": headers, "timeout": 10},
        client_session_timeout_seconds=10,
    )


def text_of(result: object) -> str:
    return "".join(getattr(part, "text", "") for part in getattr(result, "content", []))


async def test_an_mcp_client_manages_its_own_tasks_only(
    live_server: LiveServer, token_for: TokenFor, new_user: Callable[[], str], store: PostgresStore
) -> None:
    alice, bob = new_user(), new_user()
    secret = await service.add_task(
        engine=store.engine, user_id=bob, data=TaskCreate(title="Bob's secret")
    )
    async with client_for(live_server, token_for(alice)) as mcp:
        names = {tool.name for tool in await mcp.list_tools()}
        assert names == {"add_task", "list_tasks", "update_task", "complete_task", "delete_task"}
        added = await mcp.call_tool("add_task", {"title": "From another client"})
        assert not added.is_error and "From another client" in text_of(added)
        listed = await mcp.call_tool("list_tasks", {"status": "all"})
        assert "From another client" in text_of(listed) and "Bob's secret" not in text_of(listed)
        stolen = await mcp.call_tool("delete_task", {"task_id": secret.id})
        assert stolen.is_error and "not found" in text_of(stolen)
    mine = await service.list_tasks(engine=store.engine, user_id=alice)
    assert [t.title for t in mine] == ["From another client"]
    assert await service.get_task(engine=store.engine, user_id=bob, task_id=secret.id) == secret


@pytest.mark.parametrize("token", [None, "not-a-jwt"])
def test_mcp_without_a_valid_token_is_401(live_server: LiveServer, token: str | None) -> None:
    headers = {"Accept": "application/json, text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = httpx.post(
        f"{live_server.url}/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
        headers=headers,
    )
    assert response.status_code == 401
    assert "resource_metadata" in response.headers.get("www-authenticate", "")


def test_mcp_refuses_an_unexpected_host(live_server: LiveServer, token_for: TokenFor) -> None:
    response = httpx.post(
        f"{live_server.url}/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
        headers={
            "Authorization": f"Bearer {token_for('x')}",
            "Host": "evil.example",
            "Accept": "application/json, text/event-stream",
        },
    )
    assert response.status_code == 421


async def test_concurrent_calls_on_one_session_each_act_once(
    live_server: LiveServer, token_for: TokenFor, new_user: Callable[[], str], store: PostgresStore
) -> None:
    # openai-agents 0.25 sends the requests of one streamable-HTTP session at once (0.24
    # sent them one by one). No call is retried (max_retry_attempts stays 0: a retried
    # add_task could add twice), so each call acts exactly once.
    user = new_user()
    titles = [f"Parallel {n}" for n in range(8)]
    async with client_for(live_server, token_for(user)) as mcp:
        assert mcp.max_retry_attempts == 0
        results = await asyncio.gather(
            *(mcp.call_tool("add_task", {"title": title}) for title in titles)
        )
    assert [result.is_error for result in results] == [False] * len(titles)
    tasks = await service.list_tasks(engine=store.engine, user_id=user)
    assert sorted(t.title for t in tasks) == titles
