"""openai 3.57: a model request's body without the client's per-call transform.

`AsyncCompletions.create` (chat completions) and `AsyncResponses.create` (the Responses
API) pass their parameters through `async_maybe_transform`, which walks them against their
TypedDict annotations to rename aliased keys and to format dates and files. Their request
types have neither an alias nor a format (`tests/test_sdk.py` walks them to check), so for
a body of plain JSON values the transform gives back the same values, less the parameters
not given. Walking the annotations cost about 0.7 ms of CPU per model call here with a short
history (the messages and every tool's schema, every call), about 5% of a chat turn, and
several ms with a long one.

`patches()` answers those two calls directly when the body is plain JSON (dicts, lists,
strings, numbers, booleans, None) and hands every other call, and any body holding
anything else (a pydantic model, a date, a file, a tuple), to openai's transform.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from openai import NotGiven, Omit
from openai.resources.chat.completions import completions as _chat
from openai.resources.responses import responses as _responses
from openai.types.chat import completion_create_params
from openai.types.responses import response_create_params

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


__all__ = ["BODIES", "TRANSFORM", "patches", "plain_json", "untransformed"]
