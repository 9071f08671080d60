"""External MCP servers that are down or hang leave the turn answering, with a notice."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest

from tests.support.apps import app_client
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.ports import free_port
from tests.support.protocol import add_message, assistant_texts, create_thread, post, thread_id_of
from tests.support.settings import scripted_settings
from tests.support.tokens import TokenFor


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock.getsockname()[1]
    sock.close()


@pytest.mark.parametrize("kind", ["down", "hangs"])
async def test_an_unavailable_external_server_is_left_out_with_a_notice(
    database_url: str,
    fake_model: FakeOpenAI,
    token_for: TokenFor,
    new_user: Callable[[], str],
    silent_port: int,
    kind: str,
) -> None:
    port = free_port() if kind == "down" else silent_port
    settings = scripted_settings(
        database_url,
        fake_model,
        mcp_connect_timeout_seconds=1.0,
        mcp_servers=[{"name": "calendar", "url": f"http://127.0.0.1:{port}/mcp"}],
    )
    fake_model.script(Reply(text=["Answered anyway."]), Reply(text=["Still fine."]))
    async with app_client(settings) as http:
        token = token_for(new_user())
        started = time.monotonic()
        response, events = await post(http, token, create_thread("hello"))
        elapsed = time.monotonic() - started
        assert response.status_code == 200
        notices = [e for e in events if e["type"] == "notice"]
        assert len(notices) == 1 and "calendar" in notices[0]["message"]
        assert notices[0]["level"] == "warning"
        assert assistant_texts(events) == ["Answered anyway."]
        assert not [e for e in events if e["type"] == "error"]
        assert elapsed < 20
        # The built-in tools were still offered to the model.
        names = {t["function"]["name"] for t in fake_model.requests[0]["tools"]}
        assert "add_task" in names
        _, again = await post(http, token, add_message(thread_id_of(events), "again"))
        assert assistant_texts(again) == ["Still fine."]
