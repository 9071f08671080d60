"""A local PostgreSQL from the system's binaries, for tests and `taskchat dev`.

`initdb` and `pg_ctl` refuse to run as root, so as root they run as the `postgres`
user through `runuser`. The server listens on loopback only; the app connects as a
plain role (not a superuser), so row-level security applies to it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from taskchat.errors import TaskchatError


class LocalPostgresError(TaskchatError):
    """The local PostgreSQL could not be started."""


def find_bindir() -> Path:
    """The directory of initdb/pg_ctl: PG_BINDIR, `pg_config --bindir`, or PATH."""
    candidates: list[Path] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    if shutil.which("pg_config"):
        out = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if out:
            candidates.append(Path(out))
    candidates.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    raise LocalPostgresError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found; install the `postgresql` "
        "package or set PG_BINDIR"
    )


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_root() -> bool:
    return os.geteuid() == 0


@dataclass
class LocalPostgres:
    """A PostgreSQL server kept in `root` (data in root/data, the app password beside it)."""

    root: Path
    port: int = field(default_factory=free_port)
    user: str = "taskchat"
    database: str = "taskchat"
    password: str = ""
    fast: bool = False
    """Trade durability for speed (fsync off): for throwaway test databases only."""

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the app role on the app database."""
        return (
            f"postgresql+asyncpg://{self.user}:{self.password}"
            f"@127.0.0.1:{self.port}/{self.database}"
        )

    def _command(self, *args: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if _as_root() else list(args)

    def _run(self, *args: str) -> str:
        result = subprocess.run(self._command(*args), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise LocalPostgresError(
                f"{Path(args[0]).name} failed ({result.returncode}): {result.stderr.strip()}"
            )
        return result.stdout

    def _prepare_root(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.datadir.mkdir(mode=0o700, exist_ok=True)
        if _as_root():
            shutil.chown(self.datadir, "postgres", "postgres")
            # The postgres user must be able to reach the data folder through its parents;
            # only the search (x) bit is added, nothing becomes readable.
            for folder in [self.root, *self.root.parents]:
                mode = folder.stat().st_mode
                if not mode & 0o001:
                    os.chmod(folder, mode | 0o001)

    def start(self) -> None:
        """initdb on first use, start, and create the app role and database."""
        bindir = find_bindir()
        password_file = self.root / "password"
        fresh = not (self.datadir / "PG_VERSION").exists()
        if fresh:
            self._prepare_root()
            self._run(
                str(bindir / "initdb"),
                "-D",
                str(self.datadir),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            )
        elif (self.datadir / "postmaster.pid").exists():
            # Left running by an earlier session that did not stop it.
            self.stop()
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.datadir} -c max_connections=300"
        )
        if self.fast:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            str(bindir / "pg_ctl"),
            "-D",
            str(self.datadir),
            "-o",
            options,
            "-l",
            str(self.datadir / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        if fresh or not password_file.exists():
            self.password = secrets.token_hex(16)
            # Superuser access is by trust on this folder's socket and loopback only; the app
            # uses a plain role, so row-level security applies to it.
            self._psql(
                f"DO $$ BEGIN CREATE ROLE {self.user} LOGIN NOSUPERUSER NOBYPASSRLS CREATEDB; "
                "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
            )
            self._psql(f"ALTER ROLE {self.user} PASSWORD '{self.password}'")
            exists = self._psql(f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'")
            if not exists.strip():
                self._psql(f"CREATE DATABASE {self.database} OWNER {self.user}")
            password_file.write_text(self.password)
            password_file.chmod(0o600)
        else:
            self.password = password_file.read_text().strip()

    def _psql(self, sql: str) -> str:
        return self._run(
            str(find_bindir() / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-t",
            "-A",
            "-c",
            sql,
        )

    def stop(self) -> None:
        """Stop the server fast; its data stays in the folder."""
        self._run(
            str(find_bindir() / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop"
        )

    def running(self) -> bool:
        """Whether a server is running on this folder's data."""
        result = subprocess.run(
            self._command(str(find_bindir() / "pg_ctl"), "-D", str(self.datadir), "status"),
            capture_output=True,
            check=False,
        )
        return result.returncode == 0


def start_throwaway() -> tuple[LocalPostgres, Path]:
    """A fresh, fast (fsync off) server in a new temporary folder; remove it after `stop()`."""
    root = Path(tempfile.mkdtemp(prefix="taskchat-pg-"))
    os.chmod(root, 0o755)
    server = LocalPostgres(root=root, fast=True)
    server.start()
    return server, root


@contextmanager
def migrated_database(url: str | None) -> Iterator[str]:
    """`url` migrated to head; without one, a throwaway local server, removed afterwards."""
    from taskchat.db.migrate import upgrade

    if url:
        asyncio.run(upgrade(url))
        yield url
        return
    server, root = start_throwaway()
    try:
        asyncio.run(upgrade(server.url))
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
