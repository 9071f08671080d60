"""openai 3.57: a streamed answer's events built by pydantic's validator, not openai's
unchecked constructor.

The client builds each event of a stream (a chat-completions chunk, or a Responses API
event: every streamed text delta is one) with `construct_type`, which walks the event's
type annotations in Python, field by field, without checking them: about 64 us of CPU an
event here, so several ms for a long answer. pydantic's own validation builds the same
model in compiled code, and checks it: 5.6 us (bench/stream_events.py). An event that does
not pass (a provider's looser take on the format: a missing field, another `object`, an
event type this release does not know) is built as openai builds it, unchecked, so no
provider that works with the openai client stops working here.

It relies on `AsyncStream` asking its client's `_process_response_data` for each event's
object, with the stream's event type as `cast_to` (`tests/test_sdk.py` checks both, and that
an event comes out equal either way).
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from functools import cache
from typing import Any

import httpx2 as httpx
import pydantic
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionChunk
from openai.types.responses import ResponseStreamEvent

Validate = Callable[[object], Any]


def _by_type(union: object) -> Validate:
    """A validator for a union of event models told apart by their `type` literal: the one
    model of that type validates the event (pydantic's own union validation tries every
    member, slower than openai's constructor). An unknown type raises KeyError, one that
    cannot be a key (a list) TypeError."""
    (members,) = typing.get_args(union)[:1]
    models: dict[object, type[pydantic.BaseModel]] = {}
    for model in typing.get_args(members):
        for name in typing.get_args(model.model_fields["type"].annotation):
            models[name] = model

    def validate(data: object) -> Any:
        assert isinstance(data, dict)
        return models[data.get("type")].model_validate(data)

    return validate


@cache
def validators() -> dict[object, Validate]:
    """The streamed event types built by validation, each with its validator."""
    return {
        ChatCompletionChunk: ChatCompletionChunk.model_validate,
        ResponseStreamEvent: _by_type(ResponseStreamEvent),
    }


class ValidatedEventsOpenAI(AsyncOpenAI):
    """The openai client, building a stream's events with pydantic's validator."""

    def _process_response_data(
        self, *, data: object, cast_to: type[Any], response: httpx.Response
    ) -> Any:
        validate = validators().get(cast_to) if type(data) is dict else None
        if validate is not None:
            try:
                return validate(data)
            except (pydantic.ValidationError, KeyError, TypeError):
                pass  # built unchecked below, as openai builds every event
        return super()._process_response_data(data=data, cast_to=cast_to, response=response)


__all__ = ["ValidatedEventsOpenAI"]
