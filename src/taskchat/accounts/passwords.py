"""Password hashing (argon2id through pwdlib), off the event loop and a few at a time."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread
from pwdlib import PasswordHash

from taskchat.errors import ProblemError

HASHING_SLOTS = 2
"""Hashes computed at once: each takes 64 MiB and a core for a fraction of a second."""

BUSY_RETRY_SECONDS = 5

T = TypeVar("T")


class SignInBusyError(ProblemError):
    """Too many sign-ins are waiting to have their password checked."""

    status = 503
    code = "busy"

    def __init__(self) -> None:
        super().__init__(
            "Too many sign-ins at once; try again in a few seconds.",
            headers={"Retry-After": str(BUSY_RETRY_SECONDS)},
        )


class Passwords:
    """Hashes and checks passwords for one app (built in its lifespan, on its event loop).

    Every check costs one argon2 verification, found account or not, so the time an
    answer takes does not tell whether an email has an account.
    """

    def __init__(self, dummy_hash: str, hasher: PasswordHash, *, queue_seconds: float) -> None:
        self._hasher = hasher
        self._dummy_hash = dummy_hash
        self._queue_seconds = queue_seconds
        # Waits with the primitives of the loop it was made on: one per app.
        self._slots = anyio.CapacityLimiter(HASHING_SLOTS)

    @classmethod
    async def create(cls, *, queue_seconds: float = 5.0) -> Passwords:
        """pwdlib's recommended argon2id parameters, with a dummy hash for missing accounts.

        A hash waits at most `queue_seconds` for a slot, then SignInBusyError.
        """
        hasher = PasswordHash.recommended()
        dummy = await anyio.to_thread.run_sync(hasher.hash, secrets.token_hex(16))
        return cls(dummy, hasher, queue_seconds=queue_seconds)

    async def hash(self, password: str) -> str:
        """The argon2id hash of `password`."""
        return await self._in_slot(lambda: self._hasher.hash(password))

    async def verify(self, password: str, digest: str | None) -> bool:
        """Whether `password` matches `digest`; with no digest (no account), always False,
        after the same work."""
        matches = await self._in_slot(
            lambda: self._hasher.verify(password, digest or self._dummy_hash)
        )
        return digest is not None and matches

    async def _in_slot(self, work: Callable[[], T]) -> T:
        # A bounded wait: under a flood of sign-ins, each would otherwise queue behind all
        # the others (a real sign-in took 25 s); a quick 503 says to come back instead.
        acquired = False
        with anyio.move_on_after(self._queue_seconds):
            await self._slots.acquire()
            acquired = True
        if not acquired:
            raise SignInBusyError
        try:
            return await anyio.to_thread.run_sync(work)
        finally:
            self._slots.release()
