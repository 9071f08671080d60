"""Model faults end a turn with an error event and keep what arrived, marked as cut off:
a stream that stops without finishing, and a model that takes longer than the turn may."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from taskchat.chat.turn.events import CUT_OFF_NOTE
from tests.api.chatkit.test_chatkit import items_of, texts
from tests.support.apps import app_client
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.protocol import add_message, assistant_texts, create_thread, post, thread_id_of
from tests.support.settings import make_settings, scripted_settings
from tests.support.tokens import TokenFor


def responses_settings(database_url: str, fake_model: FakeOpenAI, **overrides: Any) -> Any:
    return make_settings(
        database_url,
        model_provider="openai",
        openai_api_key="test-key",
        model_base_url=fake_model.base_url,
        model_max_retries=0,
        **overrides,
    )


@pytest.mark.parametrize("provider", ["openai_compatible", "openai"])
async def test_a_stream_that_ends_without_finishing_is_an_error_and_keeps_the_part(
    provider: str,
    database_url: str,
    fake_model: FakeOpenAI,
    token_for: TokenFor,
    new_user: Callable[[], str],
) -> None:
    settings = (
        scripted_settings(database_url, fake_model)
        if provider == "openai_compatible"
        else responses_settings(database_url, fake_model)
    )
    # Paced, so each piece reaches the app before the stream ends.
    fake_model.script(Reply(text=["Half ", "an ", "answer"], unfinished=True, chunk_delay=0.05))
    async with app_client(settings) as http:
        token = token_for(new_user())
        response, events = await post(http, token, create_thread("finish please"))
        assert response.status_code == 200
        errors = [e for e in events if e["type"] == "error"]
        assert len(errors) == 1 and "broke off" in errors[0]["message"], events
        assert not assistant_texts(events), "an unfinished answer was shown as complete"
        thread_id = thread_id_of(events)
        items = await items_of(http, token, thread_id)
        assert texts(items) == [
            ("user_message", "finish please"),
            ("assistant_message", "Half an answer" + CUT_OFF_NOTE),
        ]
        fake_model.script(Reply(text=["Whole."]))
        _, again = await post(http, token, add_message(thread_id, "again"))
        assert assistant_texts(again) == ["Whole."]


async def test_a_turn_ends_at_its_deadline_with_what_arrived(
    database_url: str, fake_model: FakeOpenAI, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    # The client's own timeout (10 s) would end it much later: the deadline is what ends it.
    settings = scripted_settings(
        database_url, fake_model, model_timeout_seconds=10, model_turn_timeout_seconds=1
    )
    fake_model.script(Reply(text=["Slow ", "and ", "never done"], hold_after=2, chunk_delay=0.05))
    async with app_client(settings) as http:
        token = token_for(new_user())
        try:
            response, events = await post(http, token, create_thread("take your time"))
        finally:
            fake_model.release.set()
        assert response.status_code == 200
        errors = [e for e in events if e["type"] == "error"]
        assert len(errors) == 1 and "1 second" in errors[0]["message"], events
        items = await items_of(http, token, thread_id_of(events))
    assert texts(items) == [
        ("user_message", "take your time"),
        ("assistant_message", "Slow and " + CUT_OFF_NOTE),
    ]


def test_the_turn_deadline_is_a_positive_setting(database_url: str) -> None:
    assert make_settings(database_url).model_turn_timeout_seconds == 90
    with pytest.raises(ValueError, match="model_turn_timeout_seconds"):
        make_settings(database_url, model_turn_timeout_seconds=0)
