"""A throwaway local PostgreSQL from the system's binaries (tests, `taskchat dev`).

`initdb` and `pg_ctl` refuse to run as root, so as root they run as the `postgres`
user through `runuser`.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
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


@dataclass
class LocalPostgres:
    """A PostgreSQL server in `datadir`, listening on loopback only."""

    datadir: Path
    port: int
    user: str = "taskchat"
    password: str = ""
    database: str = "taskchat"
    bindir: Path | None = None

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the app role on the app database."""
        return f"postgresql+asyncpg://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}"

    def _as_owner(self, *args: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *args]
        return list(args)

    def _run(self, *args: str) -> None:
        result = subprocess.run(self._as_owner(*args), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise LocalPostgresError(
                f"{Path(args[0]).name} failed ({result.returncode}): {result.stderr.strip()}"
            )

    def start(self) -> None:
        """initdb (if new), start, and create the app role and database."""
        bindir = self.bindir or find_bindir()
        fresh = not (self.datadir / "PG_VERSION").exists()
        if fresh:
            self.datadir.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(self.datadir, "postgres", "postgres")
                # runuser needs to reach the folder through its parents.
                for parent in self.datadir.parents:
                    if parent == Path("/"):
                        break
                    mode = parent.stat().st_mode
                    if not mode & 0o001:
                        os.chmod(parent, mode | 0o001)
            self._run(
                str(bindir / "initdb"), "-D", str(self.datadir), "-U", "postgres",
                "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
            )  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.datadir} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        self._run(
            str(bindir / "pg_ctl"), "-D", str(self.datadir), "-o", options,
            "-l", str(self.datadir / "server.log"), "-w", "-t", "60", "start",
        )  # fmt: skip
        if fresh:
            self.password = self.password or secrets.token_hex(16)
            # A plain, non-superuser role that owns its database: row-level security,
            # forced on its tables, applies to it.
            self._psql(
                f"CREATE ROLE {self.user} LOGIN PASSWORD '{self.password}' "
                "NOSUPERUSER NOBYPASSRLS CREATEDB"
            )
            self._psql(f"CREATE DATABASE {self.database} OWNER {self.user}")

    def _psql(self, sql: str) -> None:
        bindir = self.bindir or find_bindir()
        self._run(
            str(bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
            "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", sql,
        )  # fmt: skip

    def stop(self) -> None:
        """Stop the server fast; its data stays in `datadir`."""
        bindir = self.bindir or find_bindir()
        self._run(str(bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop")


def start_throwaway() -> tuple[LocalPostgres, Path]:
    """A fresh server in a new temporary folder; remove the folder after `stop()`."""
    root = Path(tempfile.mkdtemp(prefix="taskchat-pg-"))
    os.chmod(root, 0o755)
    server = LocalPostgres(datadir=root / "data", port=free_port())
    server.start()
    return server, root
