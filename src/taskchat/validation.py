"""Validation errors in plain words: "status must be one of open, done, all".

pydantic's own text ("1 validation error for list_tasksArguments ... Input should be
'open', 'done' or 'all' [type=literal_error, ...] For further information visit https://
errors.pydantic.dev/...") reaches people when a model relays a tool's error. One
translation, used wherever a validation error is shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

_QUOTED = re.compile(r"'([^']*)'")


def _choices(expected: str) -> str:
    """pydantic's "'open', 'done' or 'all'" as "open, done, all"."""
    return ", ".join(_QUOTED.findall(expected)) or expected


def _plural(count: Any, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _sentence(kind: str, context: Mapping[str, Any], message: str) -> str:
    """What a value must be, for one pydantic error type (the field's name goes before)."""
    match kind:
        case "missing" | "missing_argument":
            return "is required"
        case "extra_forbidden" | "unexpected_keyword_argument":
            return "is not something this accepts"
        case "literal_error" | "enum":
            return f"must be one of {_choices(str(context.get('expected', '')))}"
        case "string_too_short":
            return f"must have at least {_plural(context.get('min_length'), 'character')}"
        case "string_too_long":
            return f"must have at most {_plural(context.get('max_length'), 'character')}"
        case "string_type":
            return "must be text"
        case "int_parsing" | "int_type" | "int_from_float":
            return "must be a whole number"
        case "float_parsing" | "float_type":
            return "must be a number"
        case "bool_parsing" | "bool_type":
            return "must be true or false"
        case "greater_than_equal":
            return f"must be at least {context.get('ge')}"
        case "greater_than":
            return f"must be more than {context.get('gt')}"
        case "less_than_equal":
            return f"must be at most {context.get('le')}"
        case "less_than":
            return f"must be less than {context.get('lt')}"
        case (
            "date_parsing"
            | "date_from_datetime_parsing"
            | "date_from_datetime_inexact"
            | "date_type"
        ):
            return "must be a date written as YYYY-MM-DD"
        case "value_error" | "assertion_error":
            return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    # Anything else: pydantic's sentence, lower-cased to follow the field's name.
    return message[:1].lower() + message[1:]


def describe_problem(problem: ErrorDetails) -> str:
    """One problem as "<field> <what it must be>"."""
    field = ".".join(str(part) for part in problem["loc"]) or "the input"
    return f"{field} {_sentence(problem['type'], problem.get('ctx') or {}, problem['msg'])}"


def describe(error: ValidationError) -> str:
    """Every problem of `error`, as sentences joined by "; ", ending with a full stop."""
    sentences = list(dict.fromkeys(describe_problem(problem) for problem in error.errors()))
    return "; ".join(sentences) + "."
