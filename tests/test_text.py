"""The text edge: NULs and lone surrogates refused with their field, nesting capped."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ValidationError

from taskchat.text import (
    MAX_JSON_DEPTH,
    SafeText,
    TooDeepError,
    UnsafeTextError,
    check_text,
    loads,
    problem_in,
)


def test_what_cannot_be_stored() -> None:
    assert problem_in("plain text, ünïcödé, اردو, 😀") is None
    assert problem_in("a\x00b") == "a NUL character"
    assert problem_in("\ud800") == "a lone surrogate (half of a UTF-16 pair)"
    assert problem_in("\udfff tail") is not None


def test_check_text_names_the_field() -> None:
    assert check_text("fine", "title") == "fine"
    with pytest.raises(UnsafeTextError) as caught:
        check_text("x\x00", "params.title")
    assert caught.value.status == 400 and caught.value.code == "invalid_text"
    assert caught.value.detail.startswith("params.title contains a NUL character")


def test_a_surrogate_pair_in_json_is_one_character_and_fine() -> None:
    body = json.dumps({"text": "😀"}).encode()  # ASCII JSON: "\ud83d\ude00"
    assert b"\\ud83d" in body
    assert loads(body) == {"text": "😀"}


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({"a": {"b": ["ok", "x\x00"]}}, "a.b.1"),
        ({"a": [{"\ud800": 1}]}, "A key in a.0"),
        (["\ud800"], "0"),
        (["\udfff"], "0"),  # a low half alone
        ({"a": "\udc00"}, "a"),
        ("\x00", "The request"),
    ],
)
def test_every_string_and_key_is_checked_wherever_it_is(value: object, where: str) -> None:
    with pytest.raises(UnsafeTextError) as caught:
        loads(json.dumps(value).encode())
    assert caught.value.detail.startswith(where)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_only_utf8_is_read_so_no_escape_goes_unseen(encoding: str) -> None:
    # In these encodings `\u0000` is not the bytes a check of the raw body looks for.
    body = json.dumps({"title": "x\x00"}).encode(encoding)
    with pytest.raises((json.JSONDecodeError, UnicodeDecodeError)):
        loads(body)


def test_a_utf8_byte_order_mark_is_allowed_and_the_text_still_checked() -> None:
    assert loads('{"a": "ok"}'.encode("utf-8-sig")) == {"a": "ok"}
    with pytest.raises(UnsafeTextError):
        loads(json.dumps({"a": "x\x00"}).encode("utf-8-sig"))


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_nesting_up_to_the_limit_is_fine_and_one_more_is_not() -> None:
    assert loads(nested(MAX_JSON_DEPTH)) is not None
    with pytest.raises(TooDeepError):
        loads(nested(MAX_JSON_DEPTH + 1))


def test_nesting_past_what_the_parser_can_take_is_too_deep_not_a_crash() -> None:
    with pytest.raises(TooDeepError) as caught:
        loads(nested(100_000))
    assert caught.value.status == 400 and str(MAX_JSON_DEPTH) in caught.value.detail


def test_many_shallow_brackets_are_fine() -> None:
    body = json.dumps({"ids": [[n] for n in range(500)]}).encode()
    assert len(loads(body)["ids"]) == 500


class Form(BaseModel):
    name: SafeText


def test_safe_text_for_pydantic_models() -> None:
    assert Form(name="Ayesha").name == "Ayesha"
    with pytest.raises(ValidationError, match="NUL character"):
        Form(name="Ay\x00esha")
