"""The SDK seams of `taskchat._sdk` still hold: each test fails loudly on an upgrade that
changes what a seam relies on."""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import subprocess
import sys
import typing
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Any

import agents._run_state_agent_identity as identity
import httpx2 as httpx
import pytest
import typing_extensions
from agents import Agent, FunctionTool, RunContextWrapper
from agents.models.chatcmpl_converter import Converter
from agents.testing import ScriptedModel
from agents.tool import get_function_tool_origin
from chatkit.server import ChatKitServer, NonStreamingResult, StreamingResult
from chatkit.types import (
    ThreadCreatedEvent,
    ThreadMetadata,
    ThreadsCreateReq,
    ThreadsListReq,
    UserMessageItem,
)
from mcp import Tool as MCPTool
from mcp.server._otel import OpenTelemetryMiddleware
from mcp.server.mcpserver import MCPServer as MCPServerApp
from openai import NOT_GIVEN, AsyncOpenAI, AsyncStream, omit
from openai._streaming import extract_stream_chunk_type
from openai._utils._transform import PropertyInfo, async_maybe_transform
from openai.types.chat import ChatCompletionChunk, completion_create_params
from openai.types.responses import ResponseStreamEvent, response_create_params

from taskchat._sdk import WRITTEN_AGAINST
from taskchat._sdk import agents as agents_seams
from taskchat._sdk.agents import (
    InProcessMCPServer,
    RoutedMCPServer,
    agent_identity_map,
    sdk_agent_identity_map,
)
from taskchat._sdk.chatkit import merged, serve_non_streaming, sse_frame, stream_events
from taskchat._sdk.mcp import without_tracing
from taskchat._sdk.openai import BODIES, ValidatedEventsOpenAI, plain_json, untransformed
from taskchat.agent.assistant import Assistant
from taskchat.agent.llm import build_client
from taskchat.chat.request import chatkit_request
from taskchat.chat.store.postgres import PostgresStore
from taskchat.config import Settings
from taskchat.context import RequestContext
from taskchat.tools.servers import ToolServers
from taskchat.tools.tasks import list_tool_definitions as tasks_tool_definitions
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.protocol import create_thread
from tests.support.queue_source import QueueSource


@pytest.mark.parametrize("package", sorted(WRITTEN_AGAINST))
def test_the_installed_sdks_are_the_ones_the_seams_were_written_against(package: str) -> None:
    # On an upgrade: re-read every seam in taskchat/_sdk/ against the new release, then
    # bump WRITTEN_AGAINST.
    assert version(package) == WRITTEN_AGAINST[package]


def test_process_still_dispatches_to_the_methods_the_seam_calls() -> None:
    source = inspect.getsource(ChatKitServer.process)
    assert "self._process_streaming(" in source
    assert "self._process_non_streaming(" in source
    # The stream loop we replace: the impl's events, each framed as a `data:` line.
    streaming = inspect.getsource(ChatKitServer._process_streaming)
    assert "self._process_streaming_impl(request, context)" in streaming
    assert 'b"data: " + b + b"\\n\\n"' in streaming
    for method in (ChatKitServer._process_streaming_impl, ChatKitServer._process_non_streaming):
        assert list(inspect.signature(method).parameters) == ["self", "request", "context"]


def test_a_new_message_is_built_before_its_attachments_are_stored() -> None:
    # ClaimsAttachmentsFirst claims them in `_build_user_message_item`: it must still come
    # before `_process_new_thread_item_respond`, which stores them, for both requests.
    source = inspect.getsource(ChatKitServer._process_streaming_impl)
    built = source.count("self._build_user_message_item(")
    assert built == 2 and source.count("self._process_new_thread_item_respond(") >= 2
    for request in ("ThreadsCreateReq()", "ThreadsAddUserMessageReq()"):
        branch = source[source.index(f"case {request}:") :]
        assert branch.index("self._build_user_message_item(") < branch.index(
            "self._process_new_thread_item_respond("
        )
    storing = inspect.getsource(ChatKitServer._process_new_thread_item_respond)
    assert "self.store.save_attachment(" in storing
    assert list(inspect.signature(ChatKitServer._build_user_message_item).parameters) == [
        "self",
        "input",
        "thread",
        "context",
    ]


class _Silent(ChatKitServer[RequestContext]):
    async def respond(self, thread: Any, input_user_message: Any, context: Any) -> Any:
        if False:  # an async generator that yields nothing
            yield


async def test_the_seam_answers_like_process(store: PostgresStore) -> None:
    server = _Silent(store)
    context = RequestContext(user_id="sdk-seam")
    body = b'{"type": "threads.list", "params": {"limit": 5}}'
    parsed = chatkit_request().validate_json(body)
    assert isinstance(parsed, ThreadsListReq)
    theirs = await server.process(body, context)
    assert isinstance(theirs, NonStreamingResult)
    assert await serve_non_streaming(server, parsed, context) == theirs.json

    request = chatkit_request().validate_python(create_thread("hello"))
    assert isinstance(request, ThreadsCreateReq)
    ours = [sse_frame(server, event) async for event in stream_events(server, request, context)]
    streamed = await server.process(json.dumps(create_thread("hello")).encode(), context)
    assert isinstance(streamed, StreamingResult)
    reference = [chunk async for chunk in streamed]
    assert [frame.split(b'"', 3)[:3] for frame in ours] == [
        frame.split(b'"', 3)[:3] for frame in reference
    ]
    assert ours[0].startswith(b"data: ") and b'"thread.created"' in ours[0]
    assert ours[-1].endswith(b"\n\n")


async def test_a_new_thread_streams_what_the_sdk_streams_with_one_write_fewer(
    store: PostgresStore,
) -> None:
    server = _Silent(store)
    context = RequestContext(user_id="sdk-new-thread")
    request = chatkit_request().validate_python(create_thread("hello"))
    assert isinstance(request, ThreadsCreateReq)
    stored: list[tuple[str, str]] = []

    async def store_first(thread: ThreadMetadata, first: UserMessageItem) -> None:
        stored.append((thread.id, first.id))
        await store.save_new_thread(thread, first, context)

    ours = [
        event async for event in stream_events(server, request, context, store_first=store_first)
    ]
    theirs = [event async for event in stream_events(server, request, context)]
    assert [event.type for event in ours] == [event.type for event in theirs]
    assert [type(event) for event in ours] == [type(event) for event in theirs]
    [(thread_id, item_id)] = stored
    created = ours[0]
    assert isinstance(created, ThreadCreatedEvent) and created.thread.id == thread_id
    thread = await store.load_thread(thread_id, context)
    assert thread.created_at == created.thread.created_at
    items = await store.load_thread_items(thread_id, None, 10, "asc", context)
    assert [(item.type, item.id) for item in items.data] == [("user_message", item_id)]
    # Stored as the SDK stores its own: the thread, its message its only item.
    reference = theirs[0]
    assert isinstance(reference, ThreadCreatedEvent)
    theirs_items = await store.load_thread_items(reference.thread.id, None, 10, "asc", context)
    assert [item.type for item in theirs_items.data] == ["user_message"]


def _echo_server() -> MCPServerApp[Any]:
    server: MCPServerApp[Any] = MCPServerApp(name="echo", log_level="WARNING")

    @server.tool()
    async def echo(text: str) -> str:
        """Say it back."""
        return f"echo: {text}"

    return server


def _in_process(
    name: str,
    tools: Sequence[MCPTool],
    build: Callable[[], MCPServerApp[Any]] = _echo_server,
    require_approval: Any = None,
) -> InProcessMCPServer:
    return InProcessMCPServer(
        build,
        name=name,
        tools=tools,
        call_timeout_seconds=5,
        connect_timeout_seconds=5,
        require_approval=require_approval,
    )


async def test_an_in_process_server_connects_through_the_private_session_base() -> None:
    tools = await _echo_server().list_tools()
    client = InProcessMCPServer(
        _echo_server, name="echo", tools=tools, call_timeout_seconds=5, connect_timeout_seconds=5
    )
    try:
        assert [tool.name for tool in await client.list_tools()] == ["echo"]
        assert client.session is None  # nothing opened until the first call
        result = await client.call_tool("echo", {"text": "hi"})
        assert not result.is_error
        assert [getattr(part, "text", None) for part in result.content] == ["echo: hi"]
    finally:
        await client.cleanup()
    with pytest.raises(RuntimeError, match="closed"):
        await client.call_tool("echo", {"text": "late"})


async def test_converting_the_tools_for_a_run_leaves_the_listed_tools_as_they_were() -> None:
    # InProcessMCPServer.list_tools hands every turn the same tool objects: the SDK must
    # not change them, or one turn's conversion would leak into the next.
    tools = tuple(await tasks_tool_definitions())
    before = [tool.model_dump() for tool in tools]
    server = _in_process(
        "tasks", tools, require_approval={"always": {"tool_names": ["delete_task"]}}
    )
    for strict in (True, False):
        agent = Agent(
            name="t", mcp_servers=[server], mcp_config={"convert_schemas_to_strict": strict}
        )
        converted = await agent.get_all_tools(RunContextWrapper(context=None))
        assert {tool.name for tool in converted} == {tool.name for tool in tools}
        assert (
            any(isinstance(tool, FunctionTool) and tool.strict_json_schema for tool in converted)
            is strict
        )
    assert [tool.model_dump() for tool in tools] == before


async def test_routed_tools_are_the_tools_the_agent_lists_for_its_first_server() -> None:
    # What RoutedMCPServer relies on: converting a server's tools once gives what the SDK
    # gives at every model call for the agent's first server, down to the recipient
    # binding a paused run is checked against when it resumes.
    tools = tuple(await tasks_tool_definitions())
    approval: Any = {"always": {"tool_names": ["delete_task"]}}
    server = _in_process("tasks", tools, require_approval=approval)
    listed = await Agent(name="t", mcp_servers=[server]).get_all_tools(
        RunContextWrapper(context=None)
    )
    routed = RoutedMCPServer(name="tasks", tools=tools, require_approval=approval)

    def described(tool: Any) -> tuple[object, ...]:
        assert isinstance(tool, FunctionTool)
        return (
            tool.name,
            tool.description,
            tool.params_json_schema,
            tool.strict_json_schema,
            tool.needs_approval,
            tool._mcp_tool_binding,
            get_function_tool_origin(tool),
        )

    assert [described(tool) for tool in routed.function_tools] == [
        described(tool) for tool in listed
    ]
    assert any(tool.needs_approval is True for tool in routed.function_tools)


async def test_an_external_servers_tools_keep_the_binding_they_had_beside_the_tasks_server() -> (
    None
):
    # A confirmation paused before the tasks tools were routed resumes only where each
    # tool's binding (server, tool, place) is the one it paused with.
    tools = tuple(await tasks_tool_definitions())
    echo_tools = await _echo_server().list_tools()

    def servers() -> tuple[InProcessMCPServer, InProcessMCPServer]:
        return _in_process("tasks", tools), _in_process("calendar", echo_tools)

    context = RunContextWrapper(context=None)
    before = await Agent(name="t", mcp_servers=list(servers())).get_all_tools(context)
    routed = RoutedMCPServer(name="tasks", tools=tools)
    tasks, calendar = servers()
    turn = ToolServers(servers=[tasks, calendar], route=(routed, tasks))
    agent = Assistant(ScriptedModel(), routed.function_tools).for_turn(turn.tools, turn.listed)
    now = await agent.get_all_tools(context)

    def bindings(listed: list[Any]) -> set[object]:
        return {tool._mcp_tool_binding for tool in listed}

    assert bindings(now) == bindings(before)
    assert ("calendar", "echo", 1) in bindings(now) and len(now) == len(before)


def _saying(prefix: str, before: asyncio.Event | None, after: asyncio.Event | None) -> Any:
    def build() -> MCPServerApp[Any]:
        server: MCPServerApp[Any] = MCPServerApp(name="echo", log_level="WARNING")

        @server.tool()
        async def echo(text: str) -> str:
            """Say it back."""
            if before is not None:
                await before.wait()
            if after is not None:
                after.set()
            return f"{prefix}: {text}"

        return server

    return build


async def test_each_run_calls_the_server_it_was_started_with() -> None:
    # Two runs share the routed tools; the first run's call is still running when the
    # second run calls: each reaches the server its run was started with.
    from agents import RunConfig, Runner
    from agents.items import ToolCallOutputItem
    from agents.testing import ScriptedModel, assistant_message, function_call

    tools = await _echo_server().list_tools()
    routed = RoutedMCPServer(name="echo", tools=tools)
    second_called = asyncio.Event()
    servers = {
        name: _in_process("echo", tools, _saying(name, before, after))
        for name, before, after in (("first", second_called, None), ("second", None, second_called))
    }
    runs = []
    for name, server in servers.items():
        model = ScriptedModel(
            [[function_call("echo", {"text": name}, call_id="c1")], [assistant_message("ok")]]
        )
        agent: Agent[Any] = Agent(name="t", model=model, tools=list(routed.function_tools))
        with routed.serving(server):
            runs.append(
                Runner.run_streamed(
                    agent, "go", context={}, run_config=RunConfig(tracing_disabled=True)
                )
            )

    async def outputs(run: Any) -> list[object]:
        async for _ in run.stream_events():
            pass
        return [item.output for item in run.new_items if isinstance(item, ToolCallOutputItem)]

    try:
        first, second = await asyncio.wait_for(asyncio.gather(*(outputs(run) for run in runs)), 10)
    finally:
        for server in servers.values():
            await server.cleanup()
    assert "first: first" in str(first) and "second" not in str(first)
    assert "second: second" in str(second)
    with pytest.raises(RuntimeError, match="no echo server serves this run"):
        await routed.call_tool("echo", {"text": "outside any run"})


def _property_infos(annotation: object, seen: set[int]) -> list[object]:
    """Every alias or format (`PropertyInfo`) reachable from a request type's annotations."""
    if id(annotation) in seen:
        return []
    seen.add(id(annotation))
    found: list[object] = []
    if typing.get_origin(annotation) is typing.Annotated:
        # An Annotated's arguments: the type, then its metadata.
        found += [
            each for each in typing.get_args(annotation)[1:] if isinstance(each, PropertyInfo)
        ]
    if typing_extensions.is_typeddict(annotation):
        for hint in typing.get_type_hints(annotation, include_extras=True).values():
            found += _property_infos(hint, seen)
    if typing.get_origin(annotation) is not typing.Literal:
        for argument in typing.get_args(annotation):
            found += _property_infos(argument, seen)
    return found


@pytest.mark.parametrize("request_type", BODIES)
def test_the_model_request_types_rename_and_format_nothing(
    request_type: object,
) -> None:
    # What lets _sdk/openai skip openai's transform of a plain body: were any
    # field renamed (an alias) or formatted (a date, a file), skipping it would send it wrong.
    assert _property_infos(request_type, set()) == []
    assert len(typing.get_type_hints(request_type)) > 20  # the walk reached the fields
    # And the walk does find one, however deep.
    assert _property_infos(list[_Renamed] | None, set()) == [_RENAME]


_RENAME = PropertyInfo(alias="toolChoice")


class _Renamed(typing_extensions.TypedDict):
    tool_choice: typing.Annotated[str, _RENAME]


async def test_a_plain_request_body_is_sent_as_openais_transform_would_send_it() -> None:
    tools = tuple(await tasks_tool_definitions())
    server = _in_process("tasks", tools)
    agent = Agent(name="t", mcp_servers=[server])
    converted = await agent.get_all_tools(RunContextWrapper(context=None))
    messages: list[dict[str, object]] = [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "list_tasks", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "[]"},
    ]
    body: dict[str, object] = {
        "messages": messages,
        "model": "scripted",
        "tools": [Converter.tool_to_openai(tool) for tool in converted],
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0.2,
        "max_tokens": NOT_GIVEN,
        "tool_choice": omit,
        "parallel_tool_calls": False,
    }
    expected = await async_maybe_transform(
        body, completion_create_params.CompletionCreateParamsStreaming
    )
    fast = untransformed(async_maybe_transform)
    sent = await fast(body, completion_create_params.CompletionCreateParamsStreaming)
    assert json.dumps(sent) == json.dumps(expected)
    assert "max_tokens" not in sent and "tool_choice" not in sent

    responses_body: dict[str, object] = {
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "add milk"}]},
            {"type": "function_call", "call_id": "c1", "name": "add_task", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "added"},
        ],
        "instructions": "Be brief.",
        "model": "gpt-test",
        "tools": [
            {
                "type": "function",
                "name": "add_task",
                "parameters": {"type": "object"},
                "strict": False,
            }
        ],
        "stream": True,
        "include": NOT_GIVEN,
    }
    for streamed in (
        response_create_params.ResponseCreateParamsStreaming,
        response_create_params.ResponseCreateParamsNonStreaming,
    ):
        expected_responses = await async_maybe_transform(responses_body, streamed)
        assert json.dumps(await fast(responses_body, streamed)) == json.dumps(expected_responses)

    # Anything but plain JSON goes to openai's transform, which knows what to do with it.
    assert not plain_json({"messages": ({"role": "user", "content": "a tuple"},)})
    assert not plain_json({"when": datetime.now(UTC)})
    odd = {**body, "messages": tuple(messages)}
    assert await fast(odd, completion_create_params.CompletionCreateParamsStreaming) == expected


def test_a_new_server_traces_every_message_and_without_tracing_removes_only_that() -> None:
    server = _echo_server()
    before = list(server.middleware)
    assert any(isinstance(m, OpenTelemetryMiddleware) for m in before)
    without_tracing(server)
    assert not any(isinstance(m, OpenTelemetryMiddleware) for m in server.middleware)
    assert server.middleware == [m for m in before if not isinstance(m, OpenTelemetryMiddleware)]


def test_the_standalone_mcp_server_loads_neither_chatkit_nor_the_agents_sdk() -> None:
    # One seam module per SDK: `taskchat mcp` imports the mcp seam only.
    probe = (
        "import sys, taskchat.tools.http; "
        "print(sorted(m for m in ('chatkit', 'agents') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_app_starts_without_the_heavy_sdks() -> None:
    # Their imports cost seconds of start-up (bench/startup.py): the app imports them in
    # the background once it runs (api/services.py), alembic only to migrate.
    heavy = ("agents", "chatkit", "openai", "mcp", "alembic")
    probe = f"import sys, taskchat.asgi; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


async def test_a_restored_run_with_earlier_answers_is_accepted_by_chat_completions() -> None:
    # A paused run (chat/confirmations/paused.py) is restored with the SDK's own
    # RunState.from_string.
    # Its JSON turns an earlier answer given as text into an output message without an id;
    # openai-agents 0.24's chat-completions converter refused that ("Unhandled item type"),
    # 0.25 takes it. If this fails after an upgrade, a resumed confirmation breaks with an
    # OpenAI-compatible provider.
    from agents import Agent, RunConfig, RunContextWrapper, Runner, RunState, function_tool
    from agents.models.chatcmpl_converter import Converter
    from agents.testing import ScriptedModel, function_call

    @function_tool(needs_approval=True)
    def erase(name: str) -> str:
        """Erase something."""
        return f"erased {name}"

    model = ScriptedModel([[function_call("erase", {"name": "x"}, call_id="c1")]])
    agent: Agent[Any] = Agent(name="seam", model=model, tools=[erase])
    history: list[Any] = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "erase x"},
    ]
    run = Runner.run_streamed(
        agent, history, context={}, run_config=RunConfig(tracing_disabled=True)
    )
    async for _ in run.stream_events():
        pass
    assert run.interruptions
    serialized = run.to_state().to_string(context_serializer=lambda _: {})
    kept = json.loads(serialized)["original_input"][1]
    assert kept["role"] == "assistant" and isinstance(kept["content"], list) and "id" not in kept
    state = await RunState.from_string(agent, serialized, context_override=RunContextWrapper({}))
    original = state._original_input
    assert isinstance(original, list)
    messages: list[Any] = Converter.items_to_messages(original)
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert "Hello." in json.dumps(messages[1]["content"])


def _identity_graphs() -> dict[str, Agent[Any]]:
    """Agent graphs a run can start from: one agent, distinct names (with a cycle and an
    agent as a tool), and two agents that share a name."""
    model = ScriptedModel()
    lone = Agent(name="Taskchat", instructions="Help.", model=model)
    helper = Agent(name="Helper", instructions="Assist.", model=model)
    checker = Agent(name="Checker", instructions="Check.", model=model)
    front = Agent(
        name="Front",
        instructions="Route.",
        model=model,
        handoffs=[helper],
        tools=[checker.as_tool(tool_name="check", tool_description="Check it.")],
    )
    helper.handoffs = [front]  # a cycle: reached once
    twin = Agent(name="Helper", instructions="Assist otherwise.", model=model)
    shared = Agent(name="Front", instructions="Route.", model=model, handoffs=[helper, twin])
    return {"lone": lone, "distinct": front, "shared name": shared}


@pytest.mark.parametrize("graph", ["lone", "distinct", "shared name"])
def test_identity_keys_are_the_sdks_own(graph: str) -> None:
    agent = _identity_graphs()[graph]
    ours, sdks = agent_identity_map(agent), sdk_agent_identity_map(agent)
    assert list(ours) == list(sdks)  # the keys, in the SDK's order
    assert all(ours[key] is sdks[key] for key in sdks)


def test_distinct_names_are_keyed_without_the_sdks_signatures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_signature(_: Agent[Any]) -> str:
        raise AssertionError("an agent's signature was computed")

    monkeypatch.setattr(identity, "_agent_identity_signature", no_signature)
    for patch in agents_seams.patches():
        monkeypatch.setattr(patch.module, patch.attribute, patch.replacement)
    graph = _identity_graphs()["distinct"]
    # What a run calls (its sandbox runtime, its tool-use tracker): answered by the seam.
    keys = identity._build_agent_identity_keys_by_id(graph)
    assert sorted(keys.values()) == ["Checker", "Front", "Helper"]
    with pytest.raises(AssertionError, match="signature"):
        sdk_agent_identity_map(graph)
    with pytest.raises(AssertionError, match="signature"):
        identity._build_agent_identity_keys_by_id(_identity_graphs()["shared name"])


_CHUNK = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
_EVENTS: list[tuple[object, dict[str, Any]]] = [
    (ChatCompletionChunk, {**_CHUNK, "choices": [{"index": 0, "delta": {"role": "assistant"}}]}),
    (ChatCompletionChunk, {**_CHUNK, "choices": [{"index": 0, "delta": {"content": "Hi"}}]}),
    (
        ChatCompletionChunk,
        {
            **_CHUNK,
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "add_task", "arguments": '{"ti'},
                            }
                        ]
                    },
                    "finish_reason": None,
                }
            ],
        },
    ),
    (
        ChatCompletionChunk,
        {
            **_CHUNK,
            "choices": [],
            "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
        },
    ),
    (
        ResponseStreamEvent,
        {
            "type": "response.output_text.delta",
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "delta": "Hi",
            "logprobs": [],
            "sequence_number": 3,
        },
    ),
    (
        ResponseStreamEvent,
        {
            "type": "response.function_call_arguments.delta",
            "item_id": "fc_1",
            "output_index": 1,
            "delta": '{"ti',
            "sequence_number": 4,
        },
    ),
    (
        ResponseStreamEvent,
        {
            "type": "response.output_item.added",
            "output_index": 1,
            "sequence_number": 2,
            "item": {
                "id": "fc_1",
                "type": "function_call",
                "call_id": "call_1",
                "name": "add_task",
                "arguments": "",
                "status": "in_progress",
            },
        },
    ),
    # Looser than the format: no `object` or `created`; a type this release does not know;
    # a known type missing a field; a type that is not a string.
    (ChatCompletionChunk, {"id": "c1", "model": "m", "choices": [{"delta": {"content": "Hi"}}]}),
    (ResponseStreamEvent, {"type": "response.future_thing", "sequence_number": 5}),
    (ResponseStreamEvent, {"type": "response.output_text.delta", "delta": "Hi"}),
    (ResponseStreamEvent, {"type": ["not", "a", "name"], "sequence_number": 6}),
]


@pytest.mark.parametrize(("event_type", "data"), _EVENTS)
def test_a_validated_event_is_the_event_openai_builds(
    event_type: Any, data: dict[str, Any]
) -> None:
    # What _sdk/openai (validated_events) relies on: a stream asks its client for each
    # event's object, with its event type as `cast_to`; validating gives what openai's
    # constructor gives.
    assert "_process_response_data" in AsyncStream.__stream__.__code__.co_names
    chunk_type: object = extract_stream_chunk_type(AsyncStream[ResponseStreamEvent])
    assert chunk_type is ResponseStreamEvent
    response = httpx.Response(200, request=httpx.Request("POST", "http://127.0.0.1/v1"))
    clients = [
        kind(api_key="x", base_url="http://127.0.0.1/v1")
        for kind in (AsyncOpenAI, ValidatedEventsOpenAI)
    ]
    theirs, ours = (
        client._process_response_data(
            data=copy.deepcopy(data), cast_to=event_type, response=response
        )
        for client in clients
    )
    assert type(ours) is type(theirs)
    assert ours.model_dump() == theirs.model_dump()
    assert ours.model_fields_set == theirs.model_fields_set


async def test_a_streamed_answers_chunks_are_built_by_validation(
    settings: Settings, fake_model: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The model client of the app streams through the seam: no chunk of a valid stream goes
    # through openai's constructor (counted, and passed through, where openai calls it).
    import openai._base_client

    constructed: list[object] = []
    construct = vars(openai._base_client)["construct_type"]

    def counted(*, type_: object, value: object) -> object:
        constructed.append(type_)
        return construct(type_=type_, value=value)

    monkeypatch.setattr(openai._base_client, "construct_type", counted)
    fake_model.script(Reply(text=["Hel", "lo"]))
    # The seam itself, whichever way this run of the suite sets SDK_SEAMS.
    client = build_client(settings.model_copy(update={"sdk_seams": "on"}))
    assert client is not None
    texts = []
    try:
        stream = await client.chat.completions.create(
            model="scripted", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        async for chunk in stream:
            assert isinstance(chunk, ChatCompletionChunk)
            texts += [choice.delta.content or "" for choice in chunk.choices]
    finally:
        await client.close()
    assert "".join(texts) == "Hello"
    assert ChatCompletionChunk not in constructed


def test_stream_agent_response_merges_through_the_module_global_the_seam_replaces() -> None:
    import chatkit.agents

    assert "_merge_generators" in chatkit.agents.stream_agent_response.__code__.co_names
    params = list(inspect.signature(chatkit.agents._merge_generators).parameters)
    assert params == list(inspect.signature(merged).parameters) == ["a", "b"]


async def run_events(steps: list[str | float]) -> typing.AsyncIterator[str]:
    """Yields each string; sleeps each number of seconds (the run waiting on the model)."""
    for step in steps:
        if isinstance(step, str):
            yield step
        else:
            await asyncio.sleep(step)


async def test_the_merge_passes_tool_events_on_while_the_run_waits_and_leaves_the_rest() -> None:
    tools = QueueSource[str]()
    seen: list[str] = []
    async for event in merged(run_events(["a", 0.05, "b"]), tools):
        seen.append(event)
        if event == "a":
            tools.queue.put_nowait("widget")  # a tool streams while the run waits
    assert seen == ["a", "widget", "b"]
    # Put after the run ended: not taken by the merge, left for the SDK to drain.
    tools.queue.put_nowait("late")
    await asyncio.sleep(0.01)
    assert tools.queue.get_nowait() == "late"


async def test_the_merge_raises_a_sources_error_and_stops_reading_the_other() -> None:
    async def failing() -> typing.AsyncIterator[str]:
        yield "a"
        raise ValueError("model failed")

    tools = QueueSource[str]()
    seen: list[str] = []
    with pytest.raises(ValueError, match="model failed"):
        async for event in merged(failing(), tools):
            seen.append(event)
    assert seen == ["a"]
    await asyncio.sleep(0.01)
    tools.queue.put_nowait("after")
    await asyncio.sleep(0.01)
    assert tools.queue.qsize() == 1


async def test_closing_the_merge_early_stops_both_readers() -> None:
    closed: list[str] = []

    async def endless() -> typing.AsyncIterator[str]:
        try:
            while True:
                yield "delta"
                await asyncio.sleep(0)
        finally:
            closed.append("run")

    events = merged(endless(), QueueSource[str]())
    assert await anext(events) == "delta"
    await events.aclose()
    await asyncio.sleep(0.01)
    assert closed == ["run"]


SEAM_PROBE = """
import logging, sys
import chatkit.agents, agents._run_state_agent_identity as identity
from openai.resources.chat.completions import completions
from taskchat._sdk.seams import Seams, install, patches
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
before = [getattr(p.module, p.attribute) for p in patches()]
install(Seams(on=sys.argv[1] == "on"))
after = [getattr(p.module, p.attribute) for p in patches()]
print([a is p.replacement for a, p in zip(after, patches())])
print([a is b for a, b in zip(after, before)])
"""


@pytest.mark.parametrize("setting", ["on", "off"])
def test_the_seams_are_installed_from_one_place_and_said_in_one_line(setting: str) -> None:
    # In a fresh process: installed, a patch stays for the life of the process.
    result = subprocess.run(
        [sys.executable, "-c", SEAM_PROBE, setting], capture_output=True, text=True, check=True
    )
    said, replaced, unchanged = result.stdout.strip().splitlines()
    patched = len(json.loads(replaced.replace("True", "true").replace("False", "false")))
    assert patched >= 4  # event_merge, agent_identity, plain_bodies in each caller module
    if setting == "on":
        assert replaced == str([True] * patched) and unchanged == str([False] * patched)
        names = said.removeprefix("SDK seams on: ").split(", ")
        assert {"event_merge", "agent_identity", "plain_bodies", "routed_tools"} <= set(names)
    else:
        assert replaced == str([False] * patched) and unchanged == str([True] * patched)
        assert said == "SDK seams off: running on the SDKs' own code paths"
