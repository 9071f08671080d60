"""The type of the `token_for` fixture: a real, signed JWT for a user id."""

from __future__ import annotations

from typing import Any, Protocol


class TokenFor(Protocol):
    """Mints a token the app under test accepts, for user `sub`."""

    def __call__(self, sub: str, **claims: Any) -> str:
        """The token; keyword arguments are `mint_token`'s (`name=`, `ttl_seconds=`...)."""
        ...
