"""Password hashing (argon2id through pwdlib), off the event loop and a few at a time."""

from __future__ import annotations

import secrets

import anyio
import anyio.to_thread
from pwdlib import PasswordHash

HASHING_SLOTS = 2
"""Hashes computed at once: each takes 64 MiB and a core for about 0.2 s here."""


class Passwords:
    """Hashes and checks passwords for one app (built in its lifespan, on its event loop).

    Every check costs one argon2 verification, found account or not, so the time an
    answer takes does not tell whether an email has an account.
    """

    def __init__(self, dummy_hash: str, hasher: PasswordHash) -> None:
        self._hasher = hasher
        self._dummy_hash = dummy_hash
        # Waits with the primitives of the loop it was made on: one per app.
        self._slots = anyio.CapacityLimiter(HASHING_SLOTS)

    @classmethod
    async def create(cls) -> Passwords:
        """pwdlib's recommended argon2id parameters, with a dummy hash for missing accounts."""
        hasher = PasswordHash.recommended()
        dummy = await anyio.to_thread.run_sync(hasher.hash, secrets.token_hex(16))
        return cls(dummy, hasher)

    async def hash(self, password: str) -> str:
        """The argon2id hash of `password`."""
        return await anyio.to_thread.run_sync(self._hasher.hash, password, limiter=self._slots)

    async def verify(self, password: str, digest: str | None) -> bool:
        """Whether `password` matches `digest`; with no digest (no account), always False,
        after the same work."""
        matches = await anyio.to_thread.run_sync(
            self._hasher.verify, password, digest or self._dummy_hash, limiter=self._slots
        )
        return digest is not None and matches
