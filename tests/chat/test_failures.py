"""The stream guard: a failure after the 200 ends the stream with one error event, and a
thread the stream created but could not fill is removed again."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx2
import openai
import pytest
from agents import AgentsException
from chatkit.store import NotFoundError
from chatkit.types import (
    ErrorEvent,
    InferenceOptions,
    Page,
    Thread,
    ThreadCreatedEvent,
    ThreadItemDoneEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
    UserMessageTextContent,
)

from taskchat.chat.failures import describe_model_failure, failure_of, guarded
from taskchat.chat.store.postgres import PostgresStore, chat_id
from taskchat.context import RequestContext
from taskchat.metrics import Metrics


def frame(event: ThreadStreamEvent) -> bytes:
    return event.model_dump_json().encode()


async def events_then_failure(
    *events: ThreadStreamEvent,
) -> AsyncGenerator[ThreadStreamEvent, None]:
    for event in events:
        yield event
    raise RuntimeError("a bug after the 200")


async def sent(
    store: PostgresStore, context: RequestContext, *events: ThreadStreamEvent
) -> list[dict[str, Any]]:
    stream = guarded(
        events_then_failure(*events),
        frame,
        discard_thread=partial(store.delete_thread, context=context),
        metrics=Metrics(),
    )
    return [json.loads(chunk) async for chunk in stream]


async def new_thread(store: PostgresStore, context: RequestContext) -> Thread:
    thread = Thread(id=chat_id("thread"), created_at=datetime.now(UTC), items=Page())
    await store.save_thread(ThreadMetadata(**thread.model_dump()), context=context)
    return thread


def user_message(thread_id: str) -> UserMessageItem:
    return UserMessageItem(
        id=chat_id("message"),
        thread_id=thread_id,
        created_at=datetime.now(UTC),
        content=[UserMessageTextContent(text="hello")],
        attachments=[],
        inference_options=InferenceOptions(),
    )


async def test_a_failure_ends_the_stream_with_one_error_event_and_drops_the_empty_thread(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    thread = await new_thread(store, context)
    events = await sent(store, context, ThreadCreatedEvent(thread=thread))
    assert [event["type"] for event in events] == ["thread.created", "error"]
    assert events[-1]["message"] and events[-1]["allow_retry"] is True
    with pytest.raises(NotFoundError):
        await store.load_thread(thread.id, context)


async def test_a_new_thread_never_stored_ends_with_one_error_and_no_failed_discard(
    store: PostgresStore, ctx: Callable[[], RequestContext], caplog: pytest.LogCaptureFixture
) -> None:
    # A new thread is stored with its first message: a failure before that leaves none.
    context = ctx()
    thread = Thread(id=chat_id("thread"), created_at=datetime.now(UTC), items=Page())
    events = await sent(store, context, ThreadCreatedEvent(thread=thread))
    assert [event["type"] for event in events] == ["thread.created", "error"]
    assert not [r for r in caplog.records if "could not discard" in r.getMessage()]


async def test_a_thread_that_holds_a_message_is_kept(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    context = ctx()
    thread = await new_thread(store, context)
    message = user_message(thread.id)
    await store.add_thread_item(thread.id, message, context)
    events = await sent(
        store, context, ThreadCreatedEvent(thread=thread), ThreadItemDoneEvent(item=message)
    )
    assert [event["type"] for event in events][-1] == "error"
    assert (await store.load_thread(thread.id, context)).id == thread.id


async def test_an_error_event_already_sent_is_not_repeated(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    sdk_error = ErrorEvent(code="custom", message="The model failed.", allow_retry=True)
    events = await sent(store, ctx(), sdk_error)
    assert [event["type"] for event in events] == ["error"]
    assert events[0]["message"] == "The model failed."


REQUEST = httpx2.Request("POST", "http://model/v1/chat/completions")


def status_error(cls: type[openai.APIStatusError], status: int) -> openai.APIStatusError:
    return cls("failed", response=httpx2.Response(status, request=REQUEST), body=None)


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (openai.APITimeoutError(request=REQUEST), "took too long"),
        (openai.APIConnectionError(request=REQUEST), "could not be reached"),
        (status_error(openai.RateLimitError, 429), "busy (rate limited)"),
        (status_error(openai.AuthenticationError, 401), "ask the operator"),
        (status_error(openai.InternalServerError, 503), "HTTP 503"),
        (AgentsException("stream ended early"), "broke off"),
    ],
)
def test_model_failures_in_words(error: Exception, words: str) -> None:
    assert words in describe_model_failure(error)
    failure = failure_of(error)
    assert failure.kind == "model" and words in failure.message


def test_anything_else_is_a_turn_failure_that_says_nothing_internal() -> None:
    failure = failure_of(KeyError("secret internals"))
    assert failure.kind == "turn"
    assert "secret" not in failure.message and "try again" in failure.message
