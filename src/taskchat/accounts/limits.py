"""Sign-in attempt limits, per account and per client address (the `limits` library).

Kept in process memory: with several backend replicas each counts its own attempts.
"""

from __future__ import annotations

import time

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class AttemptLimiter:
    """Counts attempts and says how long to wait once a limit is reached."""

    def __init__(self, per_account: str, per_address: str) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_account = parse(per_account)
        self._per_address = parse(per_address)

    def hit(self, *, account: str, address: str) -> float | None:
        """Count one attempt; the seconds to wait if it is over a limit, else None."""
        for item, key in ((self._per_address, address), (self._per_account, account)):
            if not self._limiter.hit(item, "auth", key):
                reset_at, _ = self._limiter.get_window_stats(item, "auth", key)
                return max(1.0, reset_at - time.time())
        return None
