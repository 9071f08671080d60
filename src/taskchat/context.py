"""Who is asking: the verified identity, and the per-request context every layer is given.

Core, so every layer (store, tools, agent, chat) can take it without importing upward.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from taskchat.text import problem_in

NAME_LIMIT = 80
"""The longest display name used (a longer `name` claim is cut)."""


def name_claim(claims: Mapping[str, Any]) -> str | None:
    """The display name in verified `claims`, trimmed and bounded, if there is one.

    A name holding what cannot be stored or sent on (a NUL, a lone surrogate) counts as
    none: it would break the model request the name is quoted in.
    """
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip() or problem_in(name):
        return None
    return name.strip()[:NAME_LIMIT]


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a verified token says the caller is."""

    user_id: str
    """The token's `sub`."""

    claims: dict[str, Any]
    """Every verified claim."""

    @property
    def display_name(self) -> str | None:
        """The name to greet the user by, if the token carries one."""
        return name_claim(self.claims)


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who is asking, as verified from their token; never from the request body."""

    user_id: str
    """The verified `sub` of the caller's token."""

    claims: dict[str, Any] = field(default_factory=dict)
    """All verified claims (display name, ...)."""

    request_id: str = ""
    """Correlates the logs of one request."""

    metadata: dict[str, Any] = field(default_factory=dict)
    """The request's client-sent metadata (page context): untrusted, never identity."""

    origin: str = ""
    """Where the caller reached Taskchat, such as `https://tasks.example.com` (through the
    frontend's proxy, the app's own origin): the base of the URLs handed back to it
    (attachment uploads and previews). Empty outside a request."""

    @property
    def display_name(self) -> str | None:
        """The verified display name, if the token carries one."""
        return name_claim(self.claims)
