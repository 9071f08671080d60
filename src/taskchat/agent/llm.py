"""The language model the agent talks to, chosen by settings."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx2 as httpx
from agents import Model, OpenAIChatCompletionsModel, OpenAIResponsesModel
from openai import AsyncOpenAI

from taskchat._sdk.openai import ValidatedEventsOpenAI
from taskchat._sdk.seams import Seams
from taskchat.agent.transport import AiohttpTransport
from taskchat.config import Settings
from taskchat.errors import TaskchatError

NOT_CONFIGURED_MESSAGE = (
    "No AI model is configured on this server. Set OPENAI_API_KEY (OpenAI), or "
    "MODEL_PROVIDER=openai_compatible with MODEL_BASE_URL (and OPENAI_API_KEY if the "
    "provider needs a key), then restart the backend."
)


class IncompleteAnswerError(TaskchatError):
    """The model's stream ended without saying it was finished: the answer is partial."""


# A chat-completions stream is finished once a choice has a finish reason or `[DONE]`
# arrives. Some OpenAI-compatible servers send only one of the two.
_FINISHED = re.compile(rb'data: \[DONE\]|"finish_reason":\s*"')
_TAIL = 64
"""Bytes of the previous chunk searched again, for a marker split across two chunks."""


class _FinishedOrFail(httpx.AsyncByteStream):
    """A chat-completions stream that raises if it ends before it finished."""

    def __init__(self, stream: httpx.AsyncByteStream) -> None:
        self._stream = stream
        self._finished = False
        self._tail = b""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        # State kept on the stream, not per iteration: the openai client stops reading at
        # `[DONE]`, and the rest is read again later by a second iteration.
        async for chunk in self._stream:
            if not self._finished:
                window = self._tail + chunk
                self._finished = _FINISHED.search(window) is not None
                self._tail = window[-_TAIL:]
            yield chunk
        if not self._finished:
            raise IncompleteAnswerError("the model's stream ended before it finished")

    async def aclose(self) -> None:
        await self._stream.aclose()


class CheckedStreamsTransport(AiohttpTransport):
    """The model client's transport: a chat-completions stream that stops early is an error.

    Without this, a stream that ends with no finish reason and no `[DONE]` (a provider or
    proxy dropping the connection cleanly) is taken as a complete answer: the Agents SDK
    checks the finish reason only for OpenAI's own API. (Responses API streams are checked
    by the SDK: they must end with `response.completed`.)
    """

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        streamed = response.headers.get("content-type", "").startswith("text/event-stream")
        if not (streamed and request.url.path.endswith("/chat/completions")):
            return response
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_FinishedOrFail(response.stream),
            extensions=response.extensions,
            request=request,
        )


def build_transport() -> CheckedStreamsTransport:
    """The transport of every model call: the agent's (through `build_http_client`) and the
    title calls' (chat/titles.py, which use it directly), so they share one pool."""
    # The openai client's own connection limit, which a custom transport must repeat.
    return CheckedStreamsTransport(max_connections=1000)


def build_http_client(
    settings: Settings, transport: CheckedStreamsTransport | None = None
) -> httpx.AsyncClient:
    """The openai client's HTTP client, over `transport` (closing it closes that)."""
    return httpx.AsyncClient(
        transport=transport or build_transport(),
        timeout=settings.model_timeout_seconds,
        follow_redirects=True,
    )


def build_client(settings: Settings, http: httpx.AsyncClient | None = None) -> AsyncOpenAI | None:
    """One OpenAI client per process, so its connection pool is shared by all turns."""
    if not settings.model_configured:
        return None
    # With the seams, a streamed answer's events are built by pydantic's validator
    # (_sdk/openai.py).
    client = ValidatedEventsOpenAI if Seams.of(settings).on else AsyncOpenAI
    return client(
        # Local OpenAI-compatible servers (Ollama, vLLM) accept any key.
        api_key=settings.openai_api_key or "not-needed",
        base_url=settings.model_base_url,
        timeout=settings.model_timeout_seconds,
        max_retries=settings.model_max_retries,
        http_client=http or build_http_client(settings),
    )


def build_model(settings: Settings, client: AsyncOpenAI) -> Model:
    """The Agents SDK model every turn talks to, over `client`.

    One per app: the models hold only their client and name, so turns share it.
    """
    if settings.model_provider == "openai_compatible":
        return OpenAIChatCompletionsModel(model=settings.model_name, openai_client=client)
    return OpenAIResponsesModel(model=settings.model_name, openai_client=client)
