"""Password hashes: argon2id, salted, checked off the event loop; a missing account costs
the same argon2 work as a wrong password."""

from __future__ import annotations

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from taskchat.accounts.passwords import Passwords


class CountedArgon2(PasswordHash):
    """pwdlib's argon2 hashing, counting its verifications (the library, not our code)."""

    def __init__(self) -> None:
        super().__init__((Argon2Hasher(),))
        self.verified: list[str] = []

    def verify(self, password: str | bytes, hash: str | bytes) -> bool:
        self.verified.append(str(hash))
        return super().verify(password, hash)


async def test_a_hash_verifies_its_password_only() -> None:
    passwords = await Passwords.create()
    digest = await passwords.hash("correct horse battery")
    assert digest.startswith("$argon2id$") and "correct horse" not in digest
    assert await passwords.verify("correct horse battery", digest)
    assert not await passwords.verify("correct horse batterY", digest)
    assert await passwords.hash("correct horse battery") != digest  # salted


async def test_no_digest_never_verifies_but_does_the_same_work() -> None:
    hasher = CountedArgon2()
    dummy = hasher.hash("not anyone's password")
    passwords = Passwords(dummy, hasher, queue_seconds=5)
    assert not await passwords.verify("anything", None)
    assert not await passwords.verify("not anyone's password", None)
    # Each check ran one real argon2 verification, against the dummy hash.
    assert hasher.verified == [dummy, dummy]
    real = await passwords.hash("mine")
    assert await passwords.verify("mine", real)
    assert hasher.verified[-1] == real
