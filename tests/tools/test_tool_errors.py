"""A tool's bad arguments come back as a sentence the model can relay, for every tool,
through a real MCP session: no pydantic type codes, class names or URLs."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat._sdk.agents import InProcessMCPServer
from taskchat.chat.store.postgres import PostgresStore
from taskchat.tools.tasks import SERVER_NAME, list_tool_definitions, tasks_server_for_user

CASES: list[tuple[str, dict[str, Any], str]] = [
    ("add_task", {}, "title is required."),
    ("add_task", {"title": "   "}, "title must have at least 1 character."),
    (
        "add_task",
        {"title": "Milk", "priority": "urgent"},
        "priority must be one of low, normal, high.",
    ),
    (
        "add_task",
        {"title": "Milk", "due_date": "next tuesday"},
        "due_date must be a date written as YYYY-MM-DD.",
    ),
    ("list_tasks", {"status": ""}, "status must be one of open, done, all."),
    ("list_tasks", {"limit": "lots"}, "limit must be a whole number."),
    ("update_task", {"title": "New"}, "task_id is required."),
    (
        "update_task",
        {"task_id": "task_x", "priority": "soon"},
        "priority must be one of low, normal, high.",
    ),
    ("complete_task", {"task_id": "task_x", "done": "maybe"}, "done must be true or false."),
    ("delete_task", {"task_id": ["task_x"]}, "task_id must be text."),
]


@pytest.fixture
async def tasks_client(store: PostgresStore, new_user: Callable[[], str]) -> Any:
    engine: AsyncEngine = store.engine
    client = InProcessMCPServer(
        partial(tasks_server_for_user, engine, new_user()),
        name=SERVER_NAME,
        tools=list(await list_tool_definitions()),
        call_timeout_seconds=10,
        connect_timeout_seconds=10,
    )
    try:
        yield client
    finally:
        await client.cleanup()


@pytest.mark.parametrize(("tool", "arguments", "sentence"), CASES)
async def test_bad_arguments_are_refused_in_plain_words(
    tasks_client: InProcessMCPServer, tool: str, arguments: dict[str, Any], sentence: str
) -> None:
    result = await tasks_client.call_tool(tool, arguments)
    assert result.is_error
    text = " ".join(part.text for part in result.content if part.type == "text")
    assert text == sentence
    for pydantic_talk in ("pydantic", "http", "Arguments", "type=", "validation error"):
        assert pydantic_talk not in text


def test_every_tool_has_a_case() -> None:
    from taskchat.tools.tasks import TOOLS

    assert {tool.name for tool in TOOLS} == {tool for tool, _, _ in CASES}
