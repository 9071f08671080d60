"""Thread history as model input that both model paths accept."""

from __future__ import annotations

from agents import TResponseInputItem
from chatkit.agents import ThreadItemConverter
from chatkit.types import AssistantMessageItem
from openai.types.responses import EasyInputMessageParam


class HistoryConverter(ThreadItemConverter):
    """Renders stored assistant messages as plain text.

    The SDK's default renders them as `output_text` parts, which the Agents SDK's
    chat-completions converter rejects ("Unknown content"), breaking the second turn
    with any OpenAI-compatible provider. A plain string is valid on both paths.
    """

    async def assistant_message_to_input(
        self, item: AssistantMessageItem
    ) -> TResponseInputItem | list[TResponseInputItem] | None:
        text = "".join(part.text for part in item.content)
        if not text.strip():
            return None
        return EasyInputMessageParam(type="message", role="assistant", content=text)
