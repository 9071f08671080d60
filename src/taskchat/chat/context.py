"""The per-request context that ChatKit passes to the store and the server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
