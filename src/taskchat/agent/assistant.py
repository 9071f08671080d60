"""The task assistant agent and its instructions."""

from __future__ import annotations

from agents import Agent, Model
from chatkit.agents import AgentContext

from taskchat.chat.context import RequestContext

BASE_INSTRUCTIONS = """\
You are Taskchat, a concise and friendly assistant that helps the user manage their tasks.
Answer in the language the user writes in.
When you change something for the user, say plainly what you changed.
If a request is unclear, ask one short question instead of guessing.
"""


def instructions_for(context: RequestContext) -> str:
    """The system instructions for one user's turn."""
    name = context.claims.get("name")
    if isinstance(name, str) and name.strip():
        # The display name is a verified claim, but still only a name: quote it as data.
        return BASE_INSTRUCTIONS + f"\nThe user's display name is {name.strip()[:80]!r}.\n"
    return BASE_INSTRUCTIONS


def build_agent(context: RequestContext, model: Model) -> Agent[AgentContext[RequestContext]]:
    """The agent for one turn of `context`'s user."""
    return Agent[AgentContext[RequestContext]](
        name="Taskchat",
        instructions=instructions_for(context),
        model=model,
    )
