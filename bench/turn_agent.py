"""CPU per turn of the agent and its tool listing: Taskchat's one agent per process with
the tasks tools converted once (agent/assistant.py, _sdk/agents.RoutedMCPServer)
against an agent built per turn around the turn's tasks server (the SDK's way, and
Taskchat's before).

Per turn, both make the turn's in-process tasks server (unconnected: it opens its session
only when a tool is called), take the turn's agent, list its tools once, as each model call
does, and compute the run's agent identity keys twice, as a run of one model call does (the
SDK's sandbox runtime and its tool-use tracker): ours with _sdk/agents.py, which
skips the signature of an agent whose name no other agent in its run has, the SDK's way
with its own signature of each agent.
ROUNDS turns a batch, three alternating batches; CPU time per turn, and the median ratio.

Target: ours/per turn at most 0.3.

    uv run python bench/turn_agent.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents import Agent, Model, RunContextWrapper
from agents.testing import ScriptedModel
from chatkit.agents import AgentContext
from chatkit.types import ThreadMetadata
from mcp import Tool as MCPTool
from mcp.server.mcpserver import MCPServer as MCPServerApp

from bench._support import alternating_batches, median_ratio
from taskchat._sdk.agents import (
    InProcessMCPServer,
    RoutedMCPServer,
    agent_identity_map,
    sdk_agent_identity_map,
)
from taskchat.agent.assistant import Assistant, instructions_for
from taskchat.context import RequestContext
from taskchat.tools.servers import CONFIRMED_TASKS_TOOLS, confirmation_policy
from taskchat.tools.tasks import SERVER_NAME, list_tool_definitions

ROUNDS = 3000
BATCHES = 3
TARGET = 0.3

Turn = Callable[[], Awaitable[None]]


IdentityMap = Callable[[Agent[Any]], dict[str, Agent[Any]]]


def identified(agent: Agent[Any], identity_map: IdentityMap) -> None:
    """The run's identity keys, twice (what `_build_agent_identity_keys_by_id` makes)."""
    for _ in range(2):
        {id(each): key for key, each in identity_map(agent).items()}


def turns(tools: tuple[MCPTool, ...], model: Model) -> dict[str, Turn]:
    user = RequestContext(user_id="bench-user")
    run_context = RunContextWrapper(
        AgentContext[RequestContext](
            thread=ThreadMetadata(id="thr_bench", created_at=datetime.now(UTC)),
            store=None,  # neither reads it
            request_context=user,
        )
    )
    approval = confirmation_policy(CONFIRMED_TASKS_TOOLS)
    route = RoutedMCPServer(name=SERVER_NAME, tools=tools, require_approval=approval)
    assistant = Assistant(model, route.function_tools)

    def never_built() -> MCPServerApp[Any]:
        raise AssertionError("the bench calls no tool")

    def turn_server() -> InProcessMCPServer:
        return InProcessMCPServer(
            never_built,
            name=SERVER_NAME,
            tools=tools,
            call_timeout_seconds=5,
            connect_timeout_seconds=5,
            require_approval=approval,
        )

    async def ours() -> None:
        turn_server()
        agent = assistant.for_turn(route.function_tools)
        await agent.get_all_tools(run_context)
        await agent.get_system_prompt(run_context)  # its instructions: made per run now
        identified(agent, agent_identity_map)

    async def per_turn() -> None:
        agent = Agent(
            name="Taskchat",
            instructions=instructions_for(user),
            model=model,
            mcp_servers=[turn_server()],
        )
        await agent.get_all_tools(run_context)
        identified(agent, sdk_agent_identity_map)

    return {"ours": ours, "per turn": per_turn}


async def cpu_per_turn(turn: Turn) -> float:
    for _ in range(50):
        await turn()
    start = time.process_time()
    for _ in range(ROUNDS):
        await turn()
    return (time.process_time() - start) / ROUNDS


async def main() -> float:
    kinds = turns(tuple(await list_tool_definitions()), ScriptedModel())

    async def measure(name: str) -> float:
        return await cpu_per_turn(kinds[name])

    ratios = await alternating_batches(measure, "ours", "per turn", BATCHES, "turn")
    return median_ratio(ratios, "ours/per turn", TARGET)


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(main()) <= TARGET else 1)
