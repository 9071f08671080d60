"""Sign-in attempt limits, per account and per client address (the `limits` library).

Kept in process memory: with several backend replicas each counts its own attempts.
"""

from __future__ import annotations

import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from taskchat.errors import ProblemError


class TooManyAttemptsError(ProblemError):
    """A sign-in limit is reached; `Retry-After` says when to try again."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, wait_seconds: float) -> None:
        seconds = int(wait_seconds) + 1
        super().__init__(
            f"Too many attempts; try again in {seconds} seconds.",
            headers={"Retry-After": str(seconds)},
        )


class AttemptLimiter:
    """Counts attempts and refuses them once a limit is reached."""

    def __init__(self, per_account: str, per_address: str) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_account = parse(per_account)
        self._per_address = parse(per_address)

    def admit(self, *, account: str, address: str) -> None:
        """Count an attempt from `address`; TooManyAttemptsError if a limit is reached.

        An account's limit counts only failed sign-ins (see `failed`), so nobody can lock
        someone out by trying their email, beyond what their own address allows.
        """
        if not self._limiter.hit(self._per_address, "address", address):
            raise TooManyAttemptsError(self._wait(self._per_address, "address", address))
        if not self._limiter.test(self._per_account, "account", account):
            raise TooManyAttemptsError(self._wait(self._per_account, "account", account))

    def failed(self, *, account: str) -> None:
        """Count a failed sign-in for `account`."""
        self._limiter.hit(self._per_account, "account", account)

    def _wait(self, item: RateLimitItem, *keys: str) -> float:
        reset_at, _ = self._limiter.get_window_stats(item, *keys)
        return max(1.0, reset_at - time.time())
