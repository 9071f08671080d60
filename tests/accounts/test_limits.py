"""Sign-in limits: per address on every attempt, per account on failures only."""

from __future__ import annotations

import pytest

from taskchat.accounts.limits import AttemptLimiter, TooManyAttemptsError


def test_an_address_is_limited_on_every_attempt() -> None:
    limiter = AttemptLimiter("100/minute", "3/minute")
    for index in range(3):
        limiter.admit(account=f"a{index}@x.org", address="10.0.0.1")
    with pytest.raises(TooManyAttemptsError) as caught:
        limiter.admit(account="fresh@x.org", address="10.0.0.1")
    assert caught.value.status == 429 and caught.value.code == "too_many_attempts"
    seconds = int(caught.value.headers["Retry-After"])
    assert 1 <= seconds <= 61 and f"{seconds} seconds" in caught.value.detail
    limiter.admit(account="fresh@x.org", address="10.0.0.2")  # another address is fine


def test_an_account_is_limited_on_failures_only() -> None:
    limiter = AttemptLimiter("2/minute", "100/minute")
    for _ in range(5):  # successful attempts are never counted against the account
        limiter.admit(account="me@x.org", address="10.0.0.1")
    limiter.failed(account="me@x.org")
    limiter.admit(account="me@x.org", address="10.0.0.1")
    limiter.failed(account="me@x.org")
    with pytest.raises(TooManyAttemptsError):
        limiter.admit(account="me@x.org", address="10.0.0.3")
    limiter.admit(account="you@x.org", address="10.0.0.1")
