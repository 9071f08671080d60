"""The language model the agent talks to, chosen by settings."""

from __future__ import annotations

from agents import Model, OpenAIChatCompletionsModel, OpenAIResponsesModel
from openai import AsyncOpenAI

from taskchat.config import Settings

NOT_CONFIGURED_MESSAGE = (
    "No AI model is configured on this server. Set OPENAI_API_KEY (OpenAI), or "
    "MODEL_PROVIDER=openai_compatible with MODEL_BASE_URL (and OPENAI_API_KEY if the "
    "provider needs a key), then restart the backend."
)


def build_client(settings: Settings) -> AsyncOpenAI | None:
    """One OpenAI client per process, so its connection pool is shared by all turns."""
    if not settings.model_configured:
        return None
    return AsyncOpenAI(
        # Local OpenAI-compatible servers (Ollama, vLLM) accept any key.
        api_key=settings.openai_api_key or "not-needed",
        base_url=settings.model_base_url,
        timeout=settings.model_timeout_seconds,
        max_retries=settings.model_max_retries,
    )


def build_model(settings: Settings, client: AsyncOpenAI) -> Model:
    """The Agents SDK model every turn talks to, over `client`.

    One per app: the models hold only their client and name, so turns share it.
    """
    if settings.model_provider == "openai_compatible":
        return OpenAIChatCompletionsModel(model=settings.model_name, openai_client=client)
    return OpenAIResponsesModel(model=settings.model_name, openai_client=client)
