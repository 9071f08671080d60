"""Thread titles: a few words for the history list, made after a thread's first message.

A short model call (TITLE_MODEL_NAME, the chat model unless set) runs alongside the first
answer: when it is back before the answer ends, the stream carries the title
(`thread.updated`); otherwise it is stored when it arrives, and the next thread listing
has it. A title call that fails, or no model at all, gives a trimmed snippet of the
message instead. The title is stored only where the thread has none, so a name the person
gave it (even while the answer streams) is never overwritten.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from openai import AsyncOpenAI

from taskchat.config import Settings
from taskchat.text import shortened

logger = logging.getLogger("taskchat.chat")

MAX_WORDS = 6
MAX_CHARS = 60
SNIPPET_CHARS = 40

INSTRUCTIONS = (
    "Write a title of 2 to 6 words for a conversation that starts with the user's message "
    "below. Use the language of the message. Answer with the title only: no quotes, no "
    "trailing punctuation, no explanation."
)


def snippet(text: str) -> str:
    """The fallback title: the message's first words, cut at a word where it is long."""
    words = " ".join(text.split())
    if len(words) <= SNIPPET_CHARS:
        return words or "New conversation"
    cut = words[:SNIPPET_CHARS].rsplit(" ", 1)[0] or words[:SNIPPET_CHARS]
    return f"{cut}…"


def cleaned(answer: str) -> str | None:
    """The model's answer as a title (one line, no quotes or label), or None if unusable."""
    line = next((each for each in answer.strip().splitlines() if each.strip()), "")
    line = re.sub(r"^(title|titre|titel)\s*:\s*", "", line.strip(), flags=re.IGNORECASE)
    line = line.strip().strip("\"'“”«»`*#").strip().rstrip(".\u3002!\uff01")
    words = line.split()
    if not words:
        return None
    return shortened(" ".join(words[:MAX_WORDS]), MAX_CHARS)


Ask = Callable[[str], Awaitable[str]]
"""One title call: the model's answer for a first message."""


def title_call(settings: Settings, client: AsyncOpenAI) -> Ask:
    """The title call over the app's model client: one plain request, not an agent run
    (a tenth of the CPU), with the provider's own API."""
    name = settings.title_model_name or settings.model_name

    async def ask(message: str) -> str:
        if settings.model_provider == "openai_compatible":
            completion = await client.chat.completions.create(
                model=name,
                messages=[
                    {"role": "system", "content": INSTRUCTIONS},
                    {"role": "user", "content": message},
                ],
                max_tokens=24,
                temperature=0.2,
            )
            return completion.choices[0].message.content or ""
        response = await client.responses.create(
            model=name, instructions=INSTRUCTIONS, input=message, max_output_tokens=24
        )
        return response.output_text

    return ask


async def title_for(ask: Ask | None, message: str) -> str:
    """A title for a conversation opened by `message`; never fails."""
    if ask is not None and message.strip():
        try:
            title = cleaned(await ask(message[:2000]))
            if title:
                return title
        except Exception as error:
            # The answer matters, the title does not: a snippet will do.
            logger.warning("title call failed: %s", type(error).__name__)
    return snippet(message)


__all__ = ["Ask", "cleaned", "snippet", "title_call", "title_for"]
