"""The local PostgreSQL of `make dev` and the tests: passwords for everyone."""

from __future__ import annotations

import asyncio
import shutil
import stat

import asyncpg
import pytest

from taskchat.db.local import LocalPostgres, start_throwaway


async def _connect(user: str, password: str, port: int, database: str) -> None:
    conn = await asyncpg.connect(
        user=user, password=password, host="127.0.0.1", port=port, database=database
    )
    await conn.close()


def _refused(user: str, password: str, port: int, database: str) -> None:
    with pytest.raises(asyncpg.InvalidPasswordError):
        asyncio.run(_connect(user, password, port, database))


def test_wrong_passwords_are_refused_for_the_app_role_and_the_superuser() -> None:
    server, root = start_throwaway()
    try:
        asyncio.run(_connect("taskchat", server.password, server.port, "taskchat"))
        _refused("taskchat", "wrong-password", server.port, "taskchat")
        _refused("postgres", "", server.port, "postgres")
        superuser = (root / "superuser-password").read_text().strip()
        asyncio.run(_connect("postgres", superuser, server.port, "postgres"))
        for name in ("password", "superuser-password"):
            assert stat.S_IMODE((root / name).stat().st_mode) == 0o600
        assert int((root / "port").read_text()) == server.port
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_a_database_made_with_trust_is_given_passwords_on_its_next_start() -> None:
    server, root = start_throwaway()
    try:
        # What earlier versions made: trust on loopback, no superuser password file.
        (server.datadir / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        )
        (root / "superuser-password").unlink()
        server.stop()
        again = LocalPostgres(root=root, fast=True)
        again.start()
        assert again.started and again.port == server.port  # the port it keeps
        _refused("taskchat", "wrong-password", again.port, "taskchat")
        _refused("postgres", "", again.port, "postgres")
        asyncio.run(_connect("taskchat", again.password, again.port, "taskchat"))
        superuser = (root / "superuser-password").read_text().strip()
        asyncio.run(_connect("postgres", superuser, again.port, "postgres"))
    finally:
        LocalPostgres(root=root).stop()
        shutil.rmtree(root, ignore_errors=True)


def test_a_running_server_is_reused_and_a_stale_pid_file_is_not_mistaken_for_one() -> None:
    server, root = start_throwaway()
    try:
        second = LocalPostgres(root=root)
        second.start()
        assert not second.started and second.port == server.port
        assert second.password == server.password
        server.stop()
        # A crash leaves postmaster.pid behind; its PID is no server's.
        lines = ["999999999", str(server.datadir), "0", str(server.port), "", "", "", ""]
        (server.datadir / "postmaster.pid").write_text("\n".join(lines) + "\n")
        assert not second.running()
        third = LocalPostgres(root=root, fast=True)
        third.start()
        assert third.started and third.running()
    finally:
        LocalPostgres(root=root).stop()
        shutil.rmtree(root, ignore_errors=True)
