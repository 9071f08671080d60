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
from typing import Any

import httpx2 as httpx
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


def title_call(settings: Settings, client: AsyncOpenAI, http: httpx.AsyncClient) -> Ask:
    """The title call: one plain request to the provider's API (chat completions for an
    OpenAI-compatible provider, responses for OpenAI), at the client's base URL and key.

    Sent straight over `http` (the model client's connection pool), not through the openai
    client: its request building and response models cost about 2 ms of CPU per call here,
    two thirds of the call, and would be most of what titles add to a new thread's turn
    (bench/chatkit_overhead.py). Not an agent run either (ten times that).
    """
    name = settings.title_model_name or settings.model_name
    base = str(client.base_url).rstrip("/")
    headers = {"Authorization": f"Bearer {client.api_key}"}
    chat = settings.model_provider == "openai_compatible"

    async def ask(message: str) -> str:
        if chat:
            body: dict[str, object] = {
                "model": name,
                "messages": [
                    {"role": "system", "content": INSTRUCTIONS},
                    {"role": "user", "content": message},
                ],
                "max_tokens": 24,
                "temperature": 0.2,
            }
        else:
            body = {
                "model": name,
                "instructions": INSTRUCTIONS,
                "input": message,
                "max_output_tokens": 24,
            }
        response = await http.post(
            f"{base}/chat/completions" if chat else f"{base}/responses",
            json=body,
            headers=headers,
        )
        response.raise_for_status()
        answer = response.json()
        return _chat_text(answer) if chat else _responses_text(answer)

    return ask


def _chat_text(answer: dict[str, Any]) -> str:
    return str(answer["choices"][0]["message"]["content"] or "")


def _responses_text(answer: dict[str, Any]) -> str:
    """The output text of a Responses API answer (what the SDK's `output_text` joins)."""
    return "".join(
        part["text"]
        for item in answer["output"]
        if item.get("type") == "message"
        for part in item["content"]
        if part.get("type") == "output_text"
    )


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
