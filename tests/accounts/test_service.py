"""Accounts on the real database: created once per email, checked without telling which
part was wrong."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from taskchat.accounts import service
from taskchat.accounts.passwords import Passwords
from taskchat.chat.store import PostgresStore


@pytest.fixture
async def passwords() -> AsyncIterator[Passwords]:
    yield await Passwords.create()


def new_email() -> str:
    return f"Someone.{secrets.token_hex(4)}@Example.org"


async def test_create_then_authenticate(store: PostgresStore, passwords: Passwords) -> None:
    email = new_email()
    account = await service.create_account(
        engine=store.engine,
        passwords=passwords,
        email=f"  {email} ",
        password="correct horse battery",
        display_name="Ayesha",
    )
    assert account.id.startswith("usr_") and account.email == email.lower()
    async with store.engine.connect() as conn:
        digest = await conn.scalar(
            text("SELECT password_hash FROM users WHERE id = :id"), {"id": account.id}
        )
    assert digest.startswith("$argon2id$")
    found = await service.authenticate(
        engine=store.engine,
        passwords=passwords,
        email=email.upper(),
        password="correct horse battery",
    )
    assert found == account


async def test_wrong_password_and_unknown_email_both_give_none(
    store: PostgresStore, passwords: Passwords
) -> None:
    email = new_email()
    await service.create_account(
        engine=store.engine,
        passwords=passwords,
        email=email,
        password="right one",
        display_name="A",
    )
    assert (
        await service.authenticate(
            engine=store.engine, passwords=passwords, email=email, password="wrong one"
        )
        is None
    )
    assert (
        await service.authenticate(
            engine=store.engine, passwords=passwords, email=new_email(), password="right one"
        )
        is None
    )


async def test_an_email_has_one_account_whatever_its_case(
    store: PostgresStore, passwords: Passwords
) -> None:
    email = new_email()
    await service.create_account(
        engine=store.engine,
        passwords=passwords,
        email=email,
        password="first pw!",
        display_name="A",
    )
    with pytest.raises(service.EmailTakenError) as caught:
        await service.create_account(
            engine=store.engine,
            passwords=passwords,
            email=email.swapcase(),
            password="second pw",
            display_name="B",
        )
    assert caught.value.status == 409 and caught.value.code == "email_taken"
