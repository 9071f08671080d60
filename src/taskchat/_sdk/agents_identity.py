"""openai-agents 0.24: a run's agent identity keys, without signatures nothing compares.

For each run the Agents SDK maps the agents it can reach (handoffs, agents as tools) to
stable keys, at least twice: for its sandbox runtime when the run starts, and for the
tool-use tracker it snapshots after each step. `_build_agent_identity_map` sorts the agents
that share a name by a signature of everything about each (its instructions, model
settings, every tool and handoff, serialized to JSON and sorted). Agents with distinct
names need no sorting, and each keeps its own name as its key; yet `sorted` computes the
signature of a group's lone agent all the same. That was 2.2% of the CPU of a new thread's
turn here (py-spy, 50 concurrent turns; Taskchat's graph is one agent).

`patches()` answer a graph whose agents' names are all distinct with those names, in the
SDK's order (the order it reaches them), and leaves every other graph to the SDK. Only
the module's own function is replaced: the SDK's callers on a run's path reach it through
`_build_agent_identity_keys_by_id`, which looks it up there; the direct importers
(restoring a paused run) keep the SDK's, which gives the same answer.
"""

from __future__ import annotations

from typing import Any

import agents._run_state_agent_identity as identity
from agents import Agent

from taskchat._sdk.patch import Patch

sdk_agent_identity_map = identity._build_agent_identity_map
"""The SDK's own, for graphs where two agents share a name (and to compare with)."""


def agent_identity_map(initial_agent: Agent[Any]) -> dict[str, Agent[Any]]:
    """The SDK's identity map of the graph reachable from `initial_agent`."""
    reachable = list(identity._iter_agent_graph(initial_agent))
    by_name = {agent.name: agent for agent in reachable}
    if len(by_name) == len(reachable):
        return by_name
    return sdk_agent_identity_map(initial_agent)


def patches() -> list[Patch]:
    """`agent_identity_map` for every run (installed by `_sdk/seams.py`)."""
    return [Patch("agent_identity", identity, "_build_agent_identity_map", agent_identity_map)]


__all__ = ["agent_identity_map", "patches", "sdk_agent_identity_map"]
