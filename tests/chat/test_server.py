"""TaskchatServer on its own: a turn streams, stores, uses tools, fails readably, and is
counted, with the Agents SDK's ScriptedModel as the model and the real store and tools."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx2
import openai
import pytest
from agents import Model
from agents.testing import ModelStep, ScriptedModel, assistant_message, function_call
from chatkit.server import StreamingResult
from chatkit.types import AttachmentCreateParams, HiddenContextItem
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.agent.llm import NOT_CONFIGURED_MESSAGE
from taskchat.chat.context import ChatContext
from taskchat.chat.failures import SHUTDOWN_NOTICE, UNREADABLE_HISTORY_MESSAGE
from taskchat.chat.request import chatkit_request, check_targets
from taskchat.chat.server import TaskchatServer
from taskchat.chat.store.postgres import PostgresStore
from taskchat.config import Settings
from taskchat.context import RequestContext
from taskchat.db.engine import create_engine
from taskchat.drain import Drain
from taskchat.metrics import Metrics
from taskchat.tasks import service
from taskchat.tools.servers import TurnTools
from taskchat.tools.tasks import list_tool_definitions
from tests.support.attachments import png
from tests.support.protocol import (
    add_message,
    assistant_texts,
    collected_events,
    create_thread,
    thread_id_of,
)

ServerFor = Callable[[Model | None], TaskchatServer]


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
async def server_for(settings: Settings, engine: AsyncEngine) -> AsyncIterator[ServerFor]:
    tools = TurnTools(settings, engine, await list_tool_definitions())
    built: list[TaskchatServer] = []

    def build(model: Model | None) -> TaskchatServer:
        server = TaskchatServer(
            PostgresStore(engine),
            settings=settings,
            model=model,
            metrics=Metrics(),
            drain=Drain(),
            tools=tools,
        )
        built.append(server)
        return server

    yield build
    for server in built:  # their title writes, before the engine closes
        await server.aclose()


async def turn(
    server: TaskchatServer, context: RequestContext, body: dict[str, Any]
) -> list[dict[str, Any]]:
    # As the route serves it, without its checks (the hints they add are only shortcuts).
    checked = ChatContext(user_id=context.user_id, claims=context.claims)
    result = await server.process_parsed(chatkit_request().validate_python(body), checked)
    assert isinstance(result, StreamingResult)
    return await collected_events(result)


def count(server: TaskchatServer, name: str, **labels: str) -> float:
    return server.metrics.registry.get_sample_value(name, labels) or 0.0


async def stored(server: TaskchatServer, context: RequestContext, thread_id: str) -> list[Any]:
    page = await server.store.load_thread_items(thread_id, None, 50, "asc", context)
    return [(item.type, item.id) for item in page.data]


async def test_a_turn_streams_stores_with_store_ids_and_is_counted(
    server_for: ServerFor, ctx: Callable[[], RequestContext]
) -> None:
    model = ScriptedModel([[assistant_message("Hello there")]])
    server, context = server_for(model), ctx()
    events = await turn(server, context, create_thread("hi"))
    assert assistant_texts(events) == ["Hello there"]
    items = await stored(server, context, thread_id_of(events))
    assert [kind for kind, _ in items] == ["user_message", "assistant_message"]
    assert items[1][1].startswith("msg_") and "scripted" not in items[1][1]
    assert count(server, "taskchat_chat_turns_total", outcome="completed") == 1
    assert count(server, "taskchat_model_first_event_seconds_count") == 1
    assert model.calls[0].system_instructions and "Taskchat" in model.calls[0].system_instructions


async def test_a_tool_call_runs_for_the_caller_with_progress_shown(
    server_for: ServerFor, ctx: Callable[[], RequestContext]
) -> None:
    model = ScriptedModel(
        [
            [function_call("add_task", {"title": "Buy milk"}, call_id="call_1")],
            [assistant_message("Added it.")],
        ]
    )
    server, context = server_for(model), ctx()
    events = await turn(server, context, create_thread("add milk"))
    progress = [e["text"] for e in events if e["type"] == "progress_update"]
    assert progress == ["Adding task…"]
    assert assistant_texts(events) == ["Added it."]
    tasks = await service.list_tasks(
        engine=server.turns.tools.engine, user_id=context.user_id, status="all"
    )
    assert [task.title for task in tasks] == ["Buy milk"]
    assert "Added: [ ] Buy milk" in str(model.calls[1].input)
    assert count(server, "taskchat_tool_calls_total", tool="add_task") == 1


@pytest.mark.parametrize(
    ("error", "kind", "message"),
    [
        (
            openai.APIConnectionError(request=httpx2.Request("POST", "http://model")),
            "model",
            "could not be reached",
        ),
        (RuntimeError("a bug"), "turn", "Something went wrong while answering"),
    ],
)
async def test_a_failed_turn_ends_with_a_readable_error_and_keeps_the_message(
    server_for: ServerFor,
    ctx: Callable[[], RequestContext],
    error: Exception,
    kind: str,
    message: str,
) -> None:
    server, context = server_for(ScriptedModel([ModelStep.raise_error(error)])), ctx()
    events = await turn(server, context, create_thread("will fail"))
    [failure] = [e for e in events if e["type"] == "error"]
    assert message in failure["message"] and failure["allow_retry"] is True
    items = await stored(server, context, thread_id_of(events))
    assert [k for k, _ in items] == ["user_message"]
    assert count(server, "taskchat_chat_turns_total", outcome="error") == 1
    assert count(server, "taskchat_errors_total", kind=kind) == 1


async def test_a_thread_whose_history_cannot_be_read_says_to_start_a_new_one(
    server_for: ServerFor, ctx: Callable[[], RequestContext]
) -> None:
    model = ScriptedModel([[assistant_message("First.")], [assistant_message("Never sent.")]])
    server, context = server_for(model), ctx()
    thread_id = thread_id_of(await turn(server, context, create_thread("hi")))
    # Hidden context the SDK's converter cannot make into model input (not a string).
    thread = await server.store.load_thread(thread_id, context)
    hidden = HiddenContextItem(
        id="hctx_bad", thread_id=thread_id, created_at=datetime.now(UTC), content={"a": 1}
    )
    await server.store.add_thread_item(thread.id, hidden, context=context)
    events = await turn(server, context, add_message(thread_id, "and now?"))
    [failure] = [e for e in events if e["type"] == "error"]
    assert failure["message"] == UNREADABLE_HISTORY_MESSAGE and failure["allow_retry"] is False
    assert len(model.calls) == 1  # the model was not asked
    assert count(server, "taskchat_chat_turns_total", outcome="error") == 1
    assert count(server, "taskchat_errors_total", kind="turn") == 1


async def test_a_turn_the_shutdown_cuts_ends_with_the_restart_notice(
    server_for: ServerFor, ctx: Callable[[], RequestContext]
) -> None:
    called = asyncio.Event()

    async def never_answers(call: Any) -> Any:
        called.set()
        await asyncio.Event().wait()

    server, context = server_for(ScriptedModel([ModelStep.respond(never_answers)])), ctx()
    running = asyncio.create_task(turn(server, context, create_thread("long one")))
    await asyncio.wait_for(called.wait(), 10)
    server.turns.drain.cut_runs()
    events = await asyncio.wait_for(running, 10)
    [notice] = [e for e in events if e["type"] == "error"]
    assert notice["message"] == SHUTDOWN_NOTICE and notice["allow_retry"] is True
    assert count(server, "taskchat_chat_turns_total", outcome="cut") == 1


async def test_without_a_model_each_turn_says_what_to_set(
    server_for: ServerFor, ctx: Callable[[], RequestContext]
) -> None:
    server, context = server_for(None), ctx()
    events = await turn(server, context, create_thread("hello?"))
    [failure] = [e for e in events if e["type"] == "error"]
    assert failure["message"] == NOT_CONFIGURED_MESSAGE and failure["allow_retry"] is False
    assert [k for k, _ in await stored(server, context, thread_id_of(events))] == ["user_message"]


async def ready_attachment(server: TaskchatServer, context: RequestContext, name: str) -> str:
    """An image attachment made and uploaded, as attachments.create and the upload do."""
    made = await server.attachments.create_attachment(
        AttachmentCreateParams(name=name, size=100, mime_type="image/png"), context
    )
    await server.store.save_attachment(made, context)
    _, kind = await server.attachments.unsent(made.id, context)
    await server.attachments.upload(made.id, kind, png(), context)
    return made.id


async def test_of_two_messages_sent_at_once_with_one_attachment_only_one_gets_it(
    server_for: ServerFor, ctx: Callable[[], RequestContext]
) -> None:
    model = ScriptedModel([[assistant_message("First.")], [assistant_message("Second.")]])
    server, context = server_for(model), ctx()
    shared = await ready_attachment(server, context, "shared.png")
    other = await ready_attachment(server, context, "other.png")
    # The second message (naming another file first) passes the checks made before its
    # stream while the shared file is still unsent...
    second = create_thread("second")
    second["params"]["input"]["attachments"] = [other, shared]
    await check_targets(
        chatkit_request().validate_python(second), server.store, ChatContext(context.user_id)
    )
    # ...then the first message is sent and takes it.
    first = create_thread("first")
    first["params"]["input"]["attachments"] = [shared]
    sent = thread_id_of(await turn(server, context, first))
    events = await turn(server, context, second)
    [error] = [event for event in events if event["type"] == "error"]
    assert error["message"] == (
        "shared.png was already sent in a message; attach the file again to send it here."
    )
    assert not error["allow_retry"]
    # The file stays the first message's; the second's thread is discarded, and its other
    # file is still unsent, ready to go in another message.
    assert (await server.store.load_attachment(shared, context)).thread_id == sent
    threads = await server.store.load_threads(10, None, "asc", context)
    assert [thread.id for thread in threads.data] == [sent]
    assert (await server.store.load_attachment(other, context)).thread_id is None
