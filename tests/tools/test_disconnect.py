"""A client that disconnects mid-tool-call leaves no MCP session or connection open."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest
from mcp.server.mcpserver import MCPServer

from taskchat.app import create_app
from tests.support.apps import app_client
from tests.support.fake_openai import FakeOpenAI, Reply, ToolCall
from tests.support.live import LiveServer
from tests.support.protocol import aiter_events, auth, create_thread, sse_events
from tests.support.settings import scripted_settings
from tests.support.tokens import TokenFor


class SlowTools:
    """An external MCP server whose one tool runs until it is cancelled."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.ended = threading.Event()
        self.server: MCPServer[Any] = MCPServer(name="slowtools", log_level="WARNING")

        @self.server.tool()
        async def slow() -> str:
            """Take a long time."""
            self.started.set()
            try:
                await anyio.sleep(60)
                return "finished"
            finally:
                self.ended.set()


@pytest.fixture
def slow_tools() -> Iterator[tuple[SlowTools, LiveServer]]:
    tools = SlowTools()
    app = tools.server.streamable_http_app(streamable_http_path="/mcp", stateless_http=True)
    live = LiveServer(app)
    live.start()
    yield tools, live
    live.stop()


async def test_disconnect_mid_tool_call_closes_the_tool_connection(
    database_url: str,
    fake_model: FakeOpenAI,
    token_for: TokenFor,
    new_user: Callable[[], str],
    slow_tools: tuple[SlowTools, LiveServer],
) -> None:
    tools, slow_server = slow_tools
    settings = scripted_settings(
        database_url,
        fake_model,
        mcp_servers=[{"name": "slowtools", "url": f"{slow_server.url}/mcp"}],
    )
    app_server = LiveServer(create_app(settings))
    app_server.start()
    try:
        fake_model.script(Reply(tool_calls=[ToolCall("slow", {})]), Reply(text=["never reached"]))
        token = token_for(new_user())
        async with (
            httpx.AsyncClient(base_url=app_server.url, timeout=30) as http,
            http.stream(
                "POST", "/chatkit", json=create_thread("be slow"), headers=auth(token)
            ) as response,
        ):
            async for event in aiter_events(response):
                if event["type"] == "progress_update":
                    break
            assert await asyncio.to_thread(tools.started.wait, 10), "the tool never started"
        # Leaving the block closed the connection mid-tool-call.
        assert await asyncio.to_thread(tools.ended.wait, 10), "the tool call was left running"
        await asyncio.sleep(0.5)
        # The run stopped with the stream: the model never got a second call.
        assert len(fake_model.requests) == 1

        fake_model.replies.clear()
        fake_model.script(Reply(text=["fine"]))
        async with httpx.AsyncClient(base_url=app_server.url, timeout=30) as http:
            again = await http.post("/chatkit", json=create_thread("hi"), headers=auth(token))
        assert again.status_code == 200 and "fine" in again.text
    finally:
        app_server.stop()


async def test_a_tool_call_that_hangs_past_its_timeout_ends_with_a_notice(
    database_url: str,
    fake_model: FakeOpenAI,
    token_for: TokenFor,
    new_user: Callable[[], str],
    slow_tools: tuple[SlowTools, LiveServer],
) -> None:
    tools, slow_server = slow_tools
    settings = scripted_settings(
        database_url,
        fake_model,
        mcp_call_timeout_seconds=1.0,
        mcp_servers=[{"name": "slowtools", "url": f"{slow_server.url}/mcp"}],
    )
    fake_model.script(
        Reply(tool_calls=[ToolCall("slow", {})]), Reply(text=["That tool is not answering."])
    )
    async with app_client(settings) as http:
        response = await http.post(
            "/chatkit", json=create_thread("be slow"), headers=auth(token_for(new_user()))
        )
    assert response.status_code == 200
    events = sse_events(response)
    notices = [e["message"] for e in events if e["type"] == "notice"]
    assert notices == ["The slowtools tools did not answer; continuing without them."]
    assert not [e for e in events if e["type"] == "error"]
    done = [e["item"] for e in events if e["type"] == "thread.item.done"]
    assert done[-1]["content"][0]["text"] == "That tool is not answering."
    tool_messages = [m for m in fake_model.requests[1]["messages"] if m["role"] == "tool"]
    assert "slowtools tool failed" in tool_messages[0]["content"]
    assert await asyncio.to_thread(tools.ended.wait, 10), "the hung call was left running"
