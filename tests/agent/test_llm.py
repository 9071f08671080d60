"""The model the agent talks to: none without a provider, Responses or chat completions."""

from __future__ import annotations

from agents import OpenAIChatCompletionsModel, OpenAIResponsesModel

from taskchat.agent.llm import build_client, build_model
from taskchat.config import Settings
from tests.support.settings import make_settings

URL = "postgresql://nobody@127.0.0.1/none"


def test_no_client_without_a_provider() -> None:
    assert build_client(make_settings(URL, openai_api_key=None)) is None


async def test_openai_uses_the_responses_api() -> None:
    settings = make_settings(URL, openai_api_key="sk-test", model_name="gpt-test")
    client = build_client(settings)
    assert client is not None
    try:
        model = build_model(settings, client)
        assert isinstance(model, OpenAIResponsesModel) and model.model == "gpt-test"
    finally:
        await client.close()


async def test_a_compatible_provider_uses_chat_completions_with_any_key() -> None:
    settings: Settings = make_settings(
        URL,
        model_provider="openai_compatible",
        model_base_url="http://127.0.0.1:11434/v1",
        openai_api_key=None,
        model_timeout_seconds=7,
        model_max_retries=4,
    )
    client = build_client(settings)
    assert client is not None
    try:
        assert str(client.base_url).startswith("http://127.0.0.1:11434/v1")
        assert client.timeout == 7 and client.max_retries == 4
        model = build_model(settings, client)
        assert isinstance(model, OpenAIChatCompletionsModel) and model.model == "gpt-4.1-mini"
    finally:
        await client.close()
