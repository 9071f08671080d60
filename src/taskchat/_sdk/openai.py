"""openai 3.63: a model request's body sent without the client's per-call transform, and a
streamed answer's events built by pydantic's validator.

Request bodies (seam `plain_bodies`). `AsyncCompletions.create` (chat completions) and
`AsyncResponses.create` (the Responses API) pass their parameters through
`async_maybe_transform`, which walks them against their TypedDict annotations to rename
aliased keys and to format dates and files: every message and every tool's schema, every
call. Their request types have neither an alias nor a format (`tests/test_sdk.py` walks them
to check), so for a body of plain JSON values the transform gives back the same values, less
the parameters not given. The patch answers those two calls directly when the body is plain
JSON (dicts, lists, strings, numbers, booleans, None) and hands every other call, and any
body holding anything else (a pydantic model, a date, a file, a tuple), to openai's
transform. Measured by bench/turn_cost.py.

Streamed events (seam `validated_events`). The client builds each event of a stream (a
chat-completions chunk, or a Responses API event: every streamed text delta is one) with
`construct_type`, which walks the event's type annotations in Python, field by field,
without checking them. pydantic's own validation builds the same model in compiled code, and
checks it. An event that does not pass (a provider's looser take on the format: a missing
field, another `object`, an event type this release does not know) is built as openai
builds it, unchecked, so no provider that works with the openai client stops working here.
It relies on `AsyncStream` asking its client's `_process_response_data` for each event's
object, with the stream's event type as `cast_to` (`tests/test_sdk.py` checks both, and that
an event comes out equal either way). Measured by bench/stream_events.py.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Coroutine
from functools import cache
from typing import Any

import httpx2 as httpx
import pydantic
from openai import AsyncOpenAI, NotGiven, Omit
from openai.resources.chat.completions import completions as _chat
from openai.resources.responses import responses as _responses
from openai.types.chat import ChatCompletionChunk, completion_create_params
from openai.types.responses import ResponseStreamEvent, response_create_params

from taskchat._sdk.patch import Patch

BODIES: tuple[object, ...] = (
    completion_create_params.CompletionCreateParamsStreaming,
    completion_create_params.CompletionCreateParamsNonStreaming,
    response_create_params.ResponseCreateParamsStreaming,
    response_create_params.ResponseCreateParamsNonStreaming,
)
"""The request types answered here: each `create`'s whole body, streamed or not."""

_CALLERS = (_chat, _responses)
"""The modules whose `create` calls the transform (each imported it under its own name)."""

_SCALARS = (str, int, float, bool)

Transform = Callable[[object, object], Coroutine[Any, Any, Any]]


def plain_json(value: object) -> bool:
    """Whether `value` is made only of what JSON has (no subclass, no tuple, no model)."""
    if value is None or type(value) in _SCALARS:
        return True
    if isinstance(value, dict) and type(value) is dict:
        return all(type(key) is str and plain_json(each) for key, each in value.items())
    if isinstance(value, list) and type(value) is list:
        return all(plain_json(each) for each in value)
    return False


def given(body: dict[str, object]) -> dict[str, object]:
    """`body` without the parameters left out (openai's `not_given` and `omit`)."""
    return {key: value for key, value in body.items() if not isinstance(value, NotGiven | Omit)}


def untransformed(original: Transform) -> Transform:
    """`async_maybe_transform`, answering a plain request body itself."""

    async def transform(data: object, expected_type: object) -> Any:
        if expected_type in BODIES and isinstance(data, dict) and type(data) is dict:
            body = given(data)
            try:
                plain = plain_json(body)
            except RecursionError:  # nested deeper than Python recurses: let openai try
                plain = False
            if plain:
                return body
        return await original(data, expected_type)

    return transform


_NAME = "async_maybe_transform"

TRANSFORM = untransformed(vars(_chat)[_NAME])
"""openai's transform, answering a plain body itself (made once, from openai's own)."""


def patches() -> list[Patch]:
    """Each caller module's own (unexported) import of the transform, which `create`
    calls, answered by `TRANSFORM` (installed by `_sdk/seams.py`)."""
    return [Patch("plain_bodies", module, _NAME, TRANSFORM) for module in _CALLERS]


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


__all__ = ["BODIES", "TRANSFORM", "ValidatedEventsOpenAI", "patches", "plain_json", "untransformed"]
