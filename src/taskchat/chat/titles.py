"""Thread titles: a few words for the history list, made after a thread's first message.

A short model call (TITLE_MODEL_NAME, the chat model unless set) runs alongside the first
answer: when it is back before the answer ends, the stream carries the title
(`thread.updated`); otherwise it is stored when it arrives, and the next thread listing
has it. A title call that fails, or no model at all, gives a trimmed snippet of the
message instead. The title is stored only where the thread has none, so a name the person
gave it (even while the answer streams) is never overwritten.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from chatkit.types import (
    Page,
    Thread,
    ThreadItem,
    ThreadMetadata,
    ThreadUpdatedEvent,
    UserMessageItem,
)
from openai import AsyncOpenAI
from yarl import URL

from taskchat.agent.transport import AiohttpTransport
from taskchat.chat.store.postgres import PostgresStore
from taskchat.config import Settings
from taskchat.context import RequestContext
from taskchat.errors import TaskchatError
from taskchat.logs import log_failure
from taskchat.text import shortened

logger = logging.getLogger("taskchat.chat")

TITLE_GRACE_SECONDS = 5.0
"""How long shutdown waits for title calls still running (they are cancelled after)."""

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


class TitleCallError(TaskchatError):
    """The provider refused the title call (its HTTP status)."""


def title_call(settings: Settings, client: AsyncOpenAI, transport: AiohttpTransport) -> Ask:
    """The title call: one plain request to the provider's API (chat completions for an
    OpenAI-compatible provider, responses for OpenAI), at the client's base URL and key.

    Sent straight through the model client's transport (its connection pool), not through
    the openai client, whose request building and response models would be most of what
    titles add to a new thread's turn (bench/chatkit_overhead.py), nor through httpx. Not an
    agent run either, which costs several times more.
    """
    name = settings.title_model_name or settings.model_name
    base = str(client.base_url).rstrip("/")
    chat = settings.model_provider == "openai_compatible"
    url = URL(f"{base}/chat/completions" if chat else f"{base}/responses")
    headers = {"Authorization": f"Bearer {client.api_key}", "Content-Type": "application/json"}
    timeout = settings.model_timeout_seconds

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
        status, content = await transport.post(url, json.dumps(body).encode(), headers, timeout)
        if status >= 400:
            raise TitleCallError(f"HTTP {status}")
        answer = json.loads(content)
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


class Titling:
    """The title calls of new threads: each started alongside its thread's first answer,
    stored where the thread has no title yet, and tracked until it ends."""

    def __init__(self, store: PostgresStore, ask: Ask | None) -> None:
        self.store = store
        self.ask = ask
        """The title call (`title_call`); None: a snippet of the message names the thread."""
        self._running: set[asyncio.Task[ThreadMetadata | None]] = set()
        """Title calls still running (some after their turn's stream ended)."""

    def start(
        self,
        thread: ThreadMetadata,
        message: UserMessageItem | None,
        recent: Page[ThreadItem],
        context: RequestContext,
    ) -> asyncio.Task[ThreadMetadata | None] | None:
        """Name a new thread, alongside its first answer: when `message` is its oldest item
        (in `recent`, the history the turn loaded anyway). Later turns, and a thread its
        owner named, get no title call."""
        if thread.title is not None or message is None or recent.has_more:
            return None
        if not recent.data or recent.data[-1].id != message.id:
            return None
        task = asyncio.create_task(self._title(thread.id, _text(message), context))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    async def without_model(
        self, thread: ThreadMetadata, message: UserMessageItem, context: RequestContext
    ) -> None:
        """No model to answer (or to title): the first words name the thread."""
        if thread.title is None:
            await self.store.set_title_if_unset(thread.id, snippet(_text(message)), context)

    async def aclose(self) -> None:
        """Let title calls still running finish (briefly) before the database closes."""
        if not self._running:
            return
        with anyio.CancelScope(shield=True):
            _, late = await asyncio.wait(set(self._running), timeout=TITLE_GRACE_SECONDS)
        for task in late:
            task.cancel()

    async def _title(
        self, thread_id: str, text: str, context: RequestContext
    ) -> ThreadMetadata | None:
        try:
            title = await title_for(self.ask, text)
            return await self.store.set_title_if_unset(thread_id, title, context)
        except Exception as error:
            log_failure(logger, "could not title thread %s", thread_id, error=error)
            return None


def title_event(task: asyncio.Task[ThreadMetadata | None] | None) -> ThreadUpdatedEvent | None:
    """The `thread.updated` event of a title call that is back already (the answer's end
    never waits for it), or None. Not for one cancelled by shutdown: its result would
    raise."""
    if task is None or not task.done() or task.cancelled():
        return None
    titled = task.result()
    if titled is None:
        return None
    return ThreadUpdatedEvent(thread=Thread(**titled.model_dump(), items=Page()))


def _text(message: UserMessageItem) -> str:
    return "".join(part.text for part in message.content)


__all__ = ["Ask", "Titling", "cleaned", "snippet", "title_call", "title_event", "title_for"]
