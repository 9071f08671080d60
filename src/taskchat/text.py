"""The one edge for text: what PostgreSQL cannot store is refused where it comes in.

PostgreSQL's text and jsonb refuse the NUL character, and asyncpg cannot encode a lone
surrogate (half of a UTF-16 pair, which JSON's `\\ud800` escape can produce) as UTF-8.
Either would fail deep in a query, after a stream's 200 has gone out; here it is a 400 that
names the field. JSON nesting is capped too: Python's parser gives up at about 1,000 levels
with a RecursionError, and nothing Taskchat accepts needs more than a few.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from pydantic import AfterValidator

from taskchat.errors import ProblemError

MAX_JSON_DEPTH = 64
"""The deepest nesting of arrays and objects a request may have."""

_SURROGATE = re.compile("[\ud800-\udfff]")
# In JSON text these can only arrive as escapes: raw NULs are invalid JSON, and raw
# surrogates are invalid UTF-8, which the decoder refuses first. Both halves: a low one
# (DC00-DFFF) can come alone as well as a high one (D800-DBFF).
_ESCAPED = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


class UnsafeTextError(ProblemError):
    """A string holds a character that cannot be stored."""

    code = "invalid_text"


class TooDeepError(ProblemError):
    """JSON nested deeper than MAX_JSON_DEPTH."""

    code = "too_deep"

    def __init__(self) -> None:
        super().__init__(
            f"The request nests arrays and objects more than {MAX_JSON_DEPTH} levels deep."
        )


def problem_in(text: str) -> str | None:
    """What in `text` cannot be stored, in words, or None if it is fine."""
    if "\x00" in text:
        return "a NUL character"
    if _SURROGATE.search(text):
        return "a lone surrogate (half of a UTF-16 pair)"
    return None


def check_text(text: str, field: str) -> str:
    """`text`, or UnsafeTextError naming `field`."""
    problem = problem_in(text)
    if problem is not None:
        raise UnsafeTextError(f"{field} contains {problem}, which cannot be stored; remove it.")
    return text


def _safe(text: str) -> str:
    problem = problem_in(text)
    if problem is not None:
        # Inside pydantic validation: the field's name is added to the error by pydantic.
        raise ValueError(f"contains {problem}, which cannot be stored")
    return text


STORABLE = AfterValidator(_safe)
"""Pydantic validation that refuses what cannot be stored; put it after other constraints
(`Annotated[str, StringConstraints(...), STORABLE]`), so they apply first."""

SafeText = Annotated[str, STORABLE]
"""A `str` field or parameter that refuses what cannot be stored (for pydantic and FastAPI)."""


def loads(body: bytes) -> Any:
    """`body` parsed as JSON, refusing deep nesting and unstorable text (with its field).

    Ordinary requests take the fast path: fewer brackets than the depth limit cannot nest
    past it, and text with no escaped NUL or surrogate has neither.

    The body must be UTF-8 (RFC 8259: JSON between systems is), with or without a byte
    order mark: `json.loads` would also take UTF-16 and UTF-32 bytes, in which `\\u0000`
    is not the bytes the fast path looks for, so the text it stands for went to the
    database unchecked. Decoded first, the fast path reads the text the parser reads.
    Other encodings raise UnicodeDecodeError or JSONDecodeError.
    """
    text = body.decode("utf-8-sig")
    try:
        value = json.loads(text)
    except RecursionError:
        raise TooDeepError from None
    deep = text.count("[") + text.count("{") > MAX_JSON_DEPTH
    if deep or _ESCAPED.search(text):
        _walk(value)
    return value


def _walk(value: Any) -> None:
    """Check every key and string in `value`, and its depth, without recursion."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise TooDeepError
            entries = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in entries:
                where = f"{path}.{key}" if path else str(key)
                if isinstance(key, str):
                    check_text(key, f"A key in {path or 'the request'}")
                stack.append((child, where, depth + 1))
        elif isinstance(node, str):
            check_text(node, path or "The request")


__all__ = [
    "MAX_JSON_DEPTH",
    "STORABLE",
    "SafeText",
    "TooDeepError",
    "UnsafeTextError",
    "check_text",
    "loads",
]


def shortened(text: str, limit: int = 60) -> str:
    """`text` cut to `limit` characters (with an ellipsis): for naming a client's input in
    an error sentence without echoing a large one back whole."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
