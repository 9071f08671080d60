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


PASSWORD_AUTH = "scram-sha-256"
"""How every connection proves who it is, the superuser's included: a wrong password in
DATABASE_URL is refused here as it would be on any other server."""

HBA = f"""# Written by taskchat (db/local.py): passwords for everyone, loopback only.
local all all {PASSWORD_AUTH}
host all all 127.0.0.1/32 {PASSWORD_AUTH}
host all all ::1/128 {PASSWORD_AUTH}
"""


def _write_secret(path: Path, value: str) -> None:
    """A file only its owner can read, created with that mode (never readable, even briefly)."""
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(value)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process (the postgres user's): alive
        return True
    return True


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        # As PostgreSQL binds: connections of a server just stopped do not hold the port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class LocalPostgres:
    """A PostgreSQL server kept in `root`: data in root/data; beside it the port it keeps
    (`port`), the app role's password (`password`) and the superuser's
    (`superuser-password`), each readable by its owner only."""

    root: Path
    port: int = 0
    """0: the port recorded in root/port, or a free one (then recorded)."""
    user: str = "taskchat"
    database: str = "taskchat"
    password: str = ""
    fast: bool = False
    """Trade durability for speed (fsync off): for throwaway test databases only."""
    started: bool = field(default=False, init=False)
    """Whether `start()` started the server (False: it was already running and is reused).
    Only the run that started it stops it."""

    def __post_init__(self) -> None:
        if self.port == 0:
            recorded = self.recorded_port()
            self.port = recorded if recorded is not None else free_port()

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def port_file(self) -> Path:
        return self.root / "port"

    @property
    def password_file(self) -> Path:
        return self.root / "password"

    @property
    def superuser_password_file(self) -> Path:
        return self.root / "superuser-password"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the app role on the app database."""
        return (
            f"postgresql+asyncpg://{self.user}:{self.password}"
            f"@127.0.0.1:{self.port}/{self.database}"
        )

    @property
    def superuser_url(self) -> str:
        """SQLAlchemy URL of the superuser on the app database (it bypasses row-level
        security: for looking at every user's rows, never for the app)."""
        password = self.superuser_password_file.read_text().strip()
        return f"postgresql+asyncpg://postgres:{password}@127.0.0.1:{self.port}/{self.database}"

    def exists(self) -> bool:
        """Whether the folder holds a database (running or not)."""
        return (self.datadir / "PG_VERSION").exists()

    def recorded_port(self) -> int | None:
        try:
            return int(self.port_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def live_port(self) -> int | None:
        """The port of the server running on this folder's data, or None.

        A server counts as running only if the PID in its postmaster.pid is alive and the
        port recorded there answers: a stale postmaster.pid (a crash, a reboot) is not
        mistaken for a server to reuse, nor a live one for a leftover to stop.
        """
        try:
            lines = (self.datadir / "postmaster.pid").read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, ValueError, IndexError):
            return None
        return port if _pid_alive(pid) and _listening(port) else None

    def _command(self, *args: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if _as_root() else list(args)

    def _run(self, *args: str, superuser_password: str | None = None) -> str:
        env = None
        if superuser_password is not None:
            # runuser keeps the environment, so psql sees it either way.
            env = {**os.environ, "PGPASSWORD": superuser_password}
        result = subprocess.run(
            self._command(*args), capture_output=True, text=True, check=False, env=env
        )
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

    def _owned_by_server(self, path: Path) -> None:
        """As root, hand `path` to the postgres user, who runs initdb and the server."""
        if _as_root():
            shutil.chown(path, "postgres", "postgres")

    def start(self) -> None:
        """initdb on first use, start (or reuse the server already running on this folder),
        and create the app role and database."""
        bindir = find_bindir()
        fresh = not self.exists()
        superuser_file = self.superuser_password_file
        if fresh:
            self._prepare_root()
            _write_secret(superuser_file, secrets.token_hex(16))
            # initdb runs as the postgres user when we are root: it must read the file.
            self._owned_by_server(superuser_file)
            self._run(
                str(bindir / "initdb"),
                "-D",
                str(self.datadir),
                "-U",
                "postgres",
                f"--auth={PASSWORD_AUTH}",
                f"--pwfile={superuser_file}",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            )
        # Made before password authentication (trust on loopback): given passwords now.
        insecure = not superuser_file.exists()
        if insecure:
            _write_secret(superuser_file, secrets.token_hex(16))
            self._owned_by_server(superuser_file)
        superuser_password = superuser_file.read_text().strip()
        live = self.live_port()
        if live is not None:
            # Another run (another terminal's `make dev`) started it: use it, never stop it.
            self.port = live
            self.started = False
        else:
            if not _port_free(self.port):
                self.port = free_port()
            self._start_server(bindir)
            self.started = True
        _write_secret(self.port_file, str(self.port))
        if insecure:
            self._require_passwords(bindir, superuser_password)
        self._create_app_role(superuser_password)

    def _start_server(self, bindir: Path) -> None:
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

    def _require_passwords(self, bindir: Path, superuser_password: str) -> None:
        """Move a database made with trust authentication to passwords: the superuser
        gets one (while trust still lets it in), then pg_hba.conf asks everyone for one."""
        self._psql(
            f"ALTER ROLE postgres PASSWORD '{superuser_password}'",
            superuser_password=superuser_password,
        )
        hba = self.datadir / "pg_hba.conf"
        hba.write_text(HBA)
        self._owned_by_server(hba)
        self._run(str(bindir / "pg_ctl"), "-D", str(self.datadir), "reload")
        # The app role's password, if it was set, still holds; a new one costs nothing.
        self.password_file.unlink(missing_ok=True)

    def _create_app_role(self, superuser_password: str) -> None:
        if self.password_file.exists():
            self.password = self.password_file.read_text().strip()
            return
        self.password = secrets.token_hex(16)
        # The app uses a plain role, so row-level security applies to it.
        self._psql(
            f"DO $$ BEGIN CREATE ROLE {self.user} LOGIN NOSUPERUSER NOBYPASSRLS CREATEDB; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$",
            superuser_password=superuser_password,
        )
        self._psql(
            f"ALTER ROLE {self.user} PASSWORD '{self.password}'",
            superuser_password=superuser_password,
        )
        exists = self._psql(
            f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'",
            superuser_password=superuser_password,
        )
        if not exists.strip():
            self._psql(
                f"CREATE DATABASE {self.database} OWNER {self.user}",
                superuser_password=superuser_password,
            )
        _write_secret(self.password_file, self.password)

    def _psql(self, sql: str, *, superuser_password: str) -> str:
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
            superuser_password=superuser_password,
        )

    def stop(self) -> None:
        """Stop the server fast, if it runs; its data stays in the folder."""
        if self.live_port() is None:
            return
        self._run(
            str(find_bindir() / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop"
        )

    def running(self) -> bool:
        """Whether a server is running on this folder's data."""
        return self.live_port() is not None


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
