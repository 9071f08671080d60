"""Password hashes: argon2id, salted, checked off the event loop."""

from __future__ import annotations

from taskchat.accounts.passwords import Passwords


async def test_a_hash_verifies_its_password_only() -> None:
    passwords = await Passwords.create()
    digest = await passwords.hash("correct horse battery")
    assert digest.startswith("$argon2id$") and "correct horse" not in digest
    assert await passwords.verify("correct horse battery", digest)
    assert not await passwords.verify("correct horse batterY", digest)
    assert await passwords.hash("correct horse battery") != digest  # salted


async def test_no_digest_never_verifies() -> None:
    passwords = await Passwords.create()
    assert not await passwords.verify("anything", None)
    assert not await passwords.verify("", None)
