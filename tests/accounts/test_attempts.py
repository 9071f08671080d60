"""Sign-in limits: per address on every attempt; failures per (account, address), and a
looser per-account ceiling that an owner's known address gets past."""

from __future__ import annotations

import pytest

from taskchat.accounts.attempts import AttemptLimiter, TooManyAttemptsError


def limiter(
    per_address: str = "100/minute",
    per_account_address: str = "100/minute",
    per_account: str = "100/hour",
) -> AttemptLimiter:
    return AttemptLimiter(
        per_address=per_address, per_account_address=per_account_address, per_account=per_account
    )


def test_an_address_is_limited_on_every_attempt() -> None:
    limits = limiter(per_address="3/minute")
    for index in range(3):
        limits.admit(account=f"a{index}@x.org", address="10.0.0.1")
    with pytest.raises(TooManyAttemptsError) as caught:
        limits.admit(account="fresh@x.org", address="10.0.0.1")
    assert caught.value.status == 429 and caught.value.code == "too_many_attempts"
    seconds = int(caught.value.headers["Retry-After"])
    assert 1 <= seconds <= 61 and f"{seconds} seconds" in caught.value.detail
    limits.admit(account="fresh@x.org", address="10.0.0.2")  # another address is fine


def test_failures_block_their_own_address_not_the_owners() -> None:
    limits = limiter(per_account_address="2/minute")
    for _ in range(5):  # successful attempts are never counted against the account
        limits.admit(account="me@x.org", address="10.0.0.1")
    for _ in range(2):
        limits.admit(account="me@x.org", address="10.6.6.6")
        limits.failed(account="me@x.org", address="10.6.6.6")
    with pytest.raises(TooManyAttemptsError):
        limits.admit(account="me@x.org", address="10.6.6.6")
    limits.admit(account="me@x.org", address="10.0.0.1")  # the owner, elsewhere
    limits.admit(account="you@x.org", address="10.6.6.6")  # another account


def test_past_the_accounts_ceiling_only_known_addresses_may_try() -> None:
    limits = limiter(per_account="3/hour")
    limits.admit(account="me@x.org", address="10.0.0.1")
    limits.succeeded(account="me@x.org", address="10.0.0.1")
    for stranger in ("10.6.6.1", "10.6.6.2", "10.6.6.3"):
        limits.admit(account="me@x.org", address=stranger)
        limits.failed(account="me@x.org", address=stranger)
    with pytest.raises(TooManyAttemptsError):
        limits.admit(account="me@x.org", address="10.6.6.4")
    with pytest.raises(TooManyAttemptsError):
        limits.admit(account="me@x.org", address="10.0.0.2")  # even the owner, somewhere new
    limits.admit(account="me@x.org", address="10.0.0.1")  # but from where they signed in
