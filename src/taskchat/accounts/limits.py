"""Sign-in attempt limits, per account and per client address (the `limits` library).

Kept in process memory: with several backend replicas each counts its own attempts.
"""

from __future__ import annotations

import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class AttemptLimiter:
    """Counts attempts and says how long to wait once a limit is reached."""

    def __init__(self, per_account: str, per_address: str) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_account = parse(per_account)
        self._per_address = parse(per_address)

    def admit(self, *, account: str, address: str) -> float | None:
        """Count an attempt from `address`; the seconds to wait if a limit is reached.

        An account's limit counts only failed sign-ins (see `failed`), so nobody can lock
        someone out by trying their email, beyond what their own address allows.
        """
        if not self._limiter.hit(self._per_address, "address", address):
            return self._wait(self._per_address, "address", address)
        if not self._limiter.test(self._per_account, "account", account):
            return self._wait(self._per_account, "account", account)
        return None

    def failed(self, *, account: str) -> None:
        """Count a failed sign-in for `account`."""
        self._limiter.hit(self._per_account, "account", account)

    def _wait(self, item: RateLimitItem, *keys: str) -> float:
        reset_at, _ = self._limiter.get_window_stats(item, *keys)
        return max(1.0, reset_at - time.time())
