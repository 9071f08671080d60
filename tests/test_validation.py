"""Validation errors in plain words: one sentence per problem, naming the field."""

from __future__ import annotations

from datetime import date
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from taskchat.validation import describe


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["open", "done"] = "open"
    name: str = Field(default="x", min_length=2, max_length=3)
    count: int = Field(default=1, ge=1, le=9)
    when: date | None = None
    flag: bool = False


@pytest.mark.parametrize(
    ("data", "sentence"),
    [
        ({"status": "maybe"}, "status must be one of open, done."),
        ({"name": "a"}, "name must have at least 2 characters."),
        ({"name": "abcd"}, "name must have at most 3 characters."),
        ({"name": 5}, "name must be text."),
        ({"count": "many"}, "count must be a whole number."),
        ({"count": 0}, "count must be at least 1."),
        ({"count": 10}, "count must be at most 9."),
        ({"when": "soon"}, "when must be a date written as YYYY-MM-DD."),
        ({"flag": "perhaps"}, "flag must be true or false."),
        ({"extra": 1}, "extra is not something this accepts."),
        ({"count": 0, "flag": "x"}, "count must be at least 1; flag must be true or false."),
    ],
)
def test_each_kind_of_problem_reads_as_a_sentence(data: dict[str, object], sentence: str) -> None:
    with pytest.raises(ValidationError) as error:
        Sample.model_validate(data)
    assert describe(error.value) == sentence
