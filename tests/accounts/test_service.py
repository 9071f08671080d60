"""Accounts on the real database: created once per email, checked without telling which
part was wrong."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from taskchat.accounts import service
from taskchat.accounts.passwords import Passwords
from taskchat.chat.store.postgres import PostgresStore


@dataclass
class Accounts:
    """The accounts service on the test database, with one app's password hasher."""

    store: PostgresStore
    passwords: Passwords

    async def create(self, email: str, password: str, name: str = "A") -> service.Account:
        return await service.create_account(
            engine=self.store.engine,
            passwords=self.passwords,
            email=email,
            password=password,
            display_name=name,
        )

    async def check(self, email: str, password: str) -> service.Account | None:
        return await service.authenticate(
            engine=self.store.engine, passwords=self.passwords, email=email, password=password
        )


@pytest.fixture
async def accounts(store: PostgresStore) -> AsyncIterator[Accounts]:
    yield Accounts(store, await Passwords.create())


def new_email() -> str:
    return f"Someone.{secrets.token_hex(4)}@Example.org"


async def test_create_then_authenticate(accounts: Accounts) -> None:
    email = new_email()
    account = await accounts.create(f"  {email} ", "correct horse battery", name="Ayesha")
    assert account.id.startswith("usr_") and account.email == email.lower()
    assert account.display_name == "Ayesha"
    async with accounts.store.engine.connect() as conn:
        digest = await conn.scalar(
            text("SELECT password_hash FROM users WHERE id = :id"), {"id": account.id}
        )
    assert digest.startswith("$argon2id$")
    assert await accounts.check(email.upper(), "correct horse battery") == account


async def test_wrong_password_and_unknown_email_both_give_none(accounts: Accounts) -> None:
    email = new_email()
    await accounts.create(email, "right one")
    assert await accounts.check(email, "wrong one") is None
    assert await accounts.check(new_email(), "right one") is None


async def test_an_email_has_one_account_whatever_its_case(accounts: Accounts) -> None:
    email = new_email()
    await accounts.create(email, "first pw!")
    with pytest.raises(service.EmailTakenError) as caught:
        await accounts.create(email.swapcase(), "second pw")
    assert caught.value.status == 409 and caught.value.code == "email_taken"
