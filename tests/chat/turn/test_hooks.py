"""Progress in the chat while a tool runs: a label per tool, streamed and counted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agents import Agent, RunConfig, Runner, function_tool
from agents.testing import ScriptedModel, assistant_message, function_call
from chatkit.agents import AgentContext, stream_agent_response
from chatkit.types import ProgressUpdateEvent, ThreadMetadata

from taskchat.chat.store.postgres import PostgresStore
from taskchat.chat.turn.hooks import ToolProgress, label_for
from taskchat.context import RequestContext
from taskchat.metrics import Metrics


def test_known_tools_have_their_own_label_and_others_a_generic_one() -> None:
    assert label_for("add_task") == "Adding task…"
    assert label_for("delete_task") == "Deleting task…"
    assert label_for("lookup_weather") == "Running lookup_weather…"


@function_tool
def lookup_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


async def test_each_tool_call_streams_its_label_and_is_counted(store: PostgresStore) -> None:
    metrics = Metrics()
    model = ScriptedModel(
        [
            [function_call("lookup_weather", {"city": "Lahore"}, call_id="call_1")],
            [assistant_message("Sunny.")],
        ]
    )
    agent = Agent[AgentContext[RequestContext]](name="a", model=model, tools=[lookup_weather])
    context = AgentContext[RequestContext](
        thread=ThreadMetadata(id="thr_progress", created_at=datetime.now(UTC)),
        store=store,
        request_context=RequestContext(user_id="progress-user"),
    )
    result = Runner.run_streamed(
        agent,
        "weather?",
        context=context,
        hooks=ToolProgress(metrics),
        run_config=RunConfig(tracing_disabled=True),
    )
    events: list[Any] = [event async for event in stream_agent_response(context, result)]
    progress = [event.text for event in events if isinstance(event, ProgressUpdateEvent)]
    assert progress == ["Running lookup_weather…"]
    assert (
        metrics.registry.get_sample_value("taskchat_tool_calls_total", {"tool": "lookup_weather"})
        == 1
    )
