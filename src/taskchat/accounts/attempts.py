"""Sign-in attempt limits (the `limits` library), made so a stranger cannot use them to
lock an owner out:

- every attempt counts against the client's address;
- a failed sign-in counts against the (account, address) pair, so failures from elsewhere
  never block the owner's own address;
- failures from all addresses together count against a looser per-account ceiling, against
  guessing spread over many addresses. Past the ceiling, only addresses the account has
  signed in from before may try.

Kept in process memory: with several backend replicas each counts its own attempts.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from taskchat.errors import ProblemError

KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600
"""How long an address an account signed in from counts as the owner's."""

KNOWN_ADDRESSES = 100_000
"""(account, address) pairs remembered at most; the least recently used are forgotten."""


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
    """Counts attempts and failures, and refuses attempts once a limit is reached."""

    def __init__(self, *, per_address: str, per_account_address: str, per_account: str) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_address = parse(per_address)
        self._per_account_address = parse(per_account_address)
        self._per_account = parse(per_account)
        self._known: OrderedDict[tuple[str, str], float] = OrderedDict()

    def admit(self, *, account: str, address: str) -> None:
        """Count an attempt from `address`; TooManyAttemptsError if a limit is reached."""
        if not self._limiter.hit(self._per_address, "address", address):
            raise self._refusal(self._per_address, "address", address)
        if not self._limiter.test(self._per_account_address, "pair", account, address):
            raise self._refusal(self._per_account_address, "pair", account, address)
        if not self._limiter.test(self._per_account, "account", account) and not self._is_known(
            account, address
        ):
            raise self._refusal(self._per_account, "account", account)

    def failed(self, *, account: str, address: str) -> None:
        """Count a failed sign-in for `account` from `address`."""
        self._limiter.hit(self._per_account_address, "pair", account, address)
        self._limiter.hit(self._per_account, "account", account)

    def succeeded(self, *, account: str, address: str) -> None:
        """Remember `address` as one `account` signs in from."""
        key = (account, address)
        self._known[key] = time.monotonic()
        self._known.move_to_end(key)
        while len(self._known) > KNOWN_ADDRESSES:
            self._known.popitem(last=False)

    def _is_known(self, account: str, address: str) -> bool:
        seen = self._known.get((account, address))
        return seen is not None and time.monotonic() - seen < KNOWN_ADDRESS_SECONDS

    def _refusal(self, item: RateLimitItem, *keys: str) -> TooManyAttemptsError:
        reset_at, _ = self._limiter.get_window_stats(item, *keys)
        return TooManyAttemptsError(max(1.0, reset_at - time.time()))
