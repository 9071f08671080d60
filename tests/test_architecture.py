"""docs/architecture.md names the backend files a new thread's first turn runs code in: a
turn is traced, and the list must be exactly the files it ran in."""

from __future__ import annotations

import re
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import asyncpg

from taskchat._sdk.seams import Seams
from tests.support.apps import running_app
from tests.support.eventually import eventually, holds
from tests.support.fake_openai import FakeOpenAI, Reply, ToolCall
from tests.support.protocol import create_thread, post, thread_id_of
from tests.support.settings import scripted_settings
from tests.support.tokens import TokenFor

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "taskchat"
DOC = ROOT / "docs" / "architecture.md"

TURN_FILES = re.compile(r"<!-- turn files -->(.*?)<!-- /turn files -->", re.S)
"""The list of files in docs/architecture.md, between these two comments."""


@contextmanager
def files_run() -> Iterator[set[str]]:
    """The backend files (under src/taskchat) whose code runs in this thread meanwhile."""
    seen: set[str] = set()
    root = str(SRC) + "/"

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        filename = frame.f_code.co_filename
        if filename.startswith(root):
            seen.add(filename[len(root) :])

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield seen
    finally:
        sys.setprofile(previous)


def title_stored(superuser_url: str, events: list[dict[str, Any]]) -> Callable[[], Awaitable[bool]]:
    """Whether the new thread's title is in the database (read as the superuser, outside
    the app, so the check runs none of the app's code)."""

    async def check() -> bool:
        connection = await asyncpg.connect(superuser_url.replace("+asyncpg", ""))
        try:
            title = await connection.fetchval(
                "SELECT data->>'title' FROM chat_threads WHERE id = $1", thread_id_of(events)
            )
        finally:
            await connection.close()
        return bool(title == "Milk")

    return check


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def documented(text: str) -> set[str]:
    """The files the architecture page lists for a new thread's turn."""
    found = TURN_FILES.search(text)
    assert found is not None, "docs/architecture.md has no <!-- turn files --> list"
    return set(re.findall(r"`([\w/]+\.py)`", found.group(1)))


async def test_the_architecture_page_names_the_files_a_new_threads_turn_runs_in(
    database_url: str,
    superuser_database_url: str,
    fake_model: FakeOpenAI,
    token_for: TokenFor,
    new_user: Callable[[], str],
) -> None:
    fake_model.titles.append("Milk")
    fake_model.script(
        Reply(tool_calls=[ToolCall("add_task", {"title": "Buy milk"})]),
        Reply(text=["Added."]),
    )
    settings = scripted_settings(database_url, fake_model)
    async with running_app(settings) as (app, http):
        token = token_for(new_user())
        services = app.state.services
        await services.chat_parts()  # loaded: its start-up is not the turn's
        await eventually(holds(lambda: services.revocations.current), "the app listens")
        with files_run() as seen:
            response, events = await post(http, token, create_thread("Remember milk"))
            # The title is stored alongside the answer, and may land just after it.
            await eventually(title_stored(superuser_database_url, events), "the title")
    assert response.status_code == 200 and events[-1]["type"] != "error"
    assert len(seen) > 10  # the trace saw the turn
    listed = documented(read(DOC))
    assert sorted(seen - listed) == [], "run by the turn, but not in docs/architecture.md"
    unrun = sorted(listed - seen)
    if Seams.of(settings).on:
        assert unrun == [], "in docs/architecture.md, but not run by the turn"
    else:
        # On the SDKs' own code paths (SDK_SEAMS=off) some seams' modules are not run.
        assert unrun and all(name.startswith("_sdk/") for name in unrun), unrun


def test_the_check_reads_the_list_between_its_markers() -> None:
    page = (
        "`chat/elsewhere.py`\n<!-- turn files -->\n| `api/chatkit.py` | route |\n"
        "- `chat/server.py`: the server\n<!-- /turn files -->\n"
    )
    assert documented(page) == {"api/chatkit.py", "chat/server.py"}
