"""Ids: a prefix naming the kind, then 96 random bits."""

from __future__ import annotations

import re

from taskchat.ids import RANDOM_BYTES, new_id


def test_an_id_is_its_prefix_and_24_hex_digits() -> None:
    assert RANDOM_BYTES * 8 == 96
    assert re.fullmatch(r"task_[0-9a-f]{24}", new_id("task"))
    assert re.fullmatch(r"usr_[0-9a-f]{24}", new_id("usr"))


def test_ids_do_not_repeat() -> None:
    ids = {new_id("x") for _ in range(10_000)}
    assert len(ids) == 10_000
