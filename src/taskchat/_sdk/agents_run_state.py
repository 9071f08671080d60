"""openai-agents 0.24: a paused run, serialized and restored, that the chat-completions path
can resume.

`RunState.to_json` normalizes the run's original input "into the shape expected by the
Responses API": an assistant message given as `{"role": "assistant", "content": "text"}`
becomes `{"type": "message", "role": "assistant", "content": [{"type": "output_text", ...}],
"status": "completed"}`, without an `id`. The chat-completions converter recognizes an
assistant output message only with an `id` (`Converter.maybe_response_output_message`), so a
restored run of a thread with an earlier answer fails there with "Unhandled item type or
structure". The history sent them as plain text (chat/history.py) for exactly that reason:
this puts them back, in the restored state's private `_original_input`, before it resumes.
"""

from __future__ import annotations

from typing import Any

from agents import Agent, RunContextWrapper, RunState


def _as_text(item: Any) -> Any:
    if not (
        isinstance(item, dict)
        and item.get("type", "message") == "message"
        and item.get("role") == "assistant"
        and "id" not in item
        and isinstance(item.get("content"), list)
    ):
        return item
    parts = item["content"]
    if not all(isinstance(part, dict) and part.get("type") == "output_text" for part in parts):
        return item
    return {"role": "assistant", "content": "".join(part.get("text", "") for part in parts)}


async def restored_run_state(
    agent: Agent[Any], serialized: str, context: RunContextWrapper[Any]
) -> RunState[Any, Agent[Any]]:
    """The run `serialized` (RunState.to_string) for `agent`, with `context` as its own."""
    state = await RunState.from_string(agent, serialized, context_override=context)
    original = state._original_input
    if isinstance(original, list):
        state._original_input = [_as_text(item) for item in original]
    return state


__all__ = ["restored_run_state"]
