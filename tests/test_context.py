"""Who is asking: the display name comes from verified claims only, trimmed and bounded."""

from __future__ import annotations

from typing import Any

import pytest

from taskchat.context import NAME_LIMIT, Identity, RequestContext, name_claim


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"name": "Ayesha"}, "Ayesha"),
        ({"name": "  Ayesha Khan \n"}, "Ayesha Khan"),
        ({"name": "x" * 200}, "x" * NAME_LIMIT),
        ({"name": "   "}, None),
        ({"name": 42}, None),
        ({"name": "Ay\x00esha"}, None),
        ({"name": "Ayesha \ud800"}, None),
        ({}, None),
    ],
)
def test_the_name_claim(claims: dict[str, Any], expected: str | None) -> None:
    assert name_claim(claims) == expected
    assert Identity(user_id="u", claims=claims).display_name == expected
    assert RequestContext(user_id="u", claims=claims).display_name == expected


def test_metadata_is_never_a_source_of_the_name() -> None:
    context = RequestContext(user_id="u", metadata={"name": "Mallory"})
    assert context.display_name is None
