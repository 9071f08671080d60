"""The Next.js development server, run beside the backend by `taskchat dev`."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from taskchat.db.migrate import PROJECT_ROOT
from taskchat.errors import TaskchatError

FRONTEND_DIR = PROJECT_ROOT / "frontend"

CURSOR_CODES = (b"\x1b[?25h", b"\x1b[?25l")
"""Show and hide the cursor. `next dev` writes the first whenever it stops, terminal or
not: in a log, or after our own shutdown lines, it reads as a stray `[?25h`. Nothing we
run hides the cursor, so neither code has anything to do in our output."""

_LONGEST_PREFIX = max(len(code) for code in CURSOR_CODES) - 1

RELAY_JOIN_SECONDS = 5
"""How long stopping waits for the dev server's last words to be passed on."""

DEV_LOCK = Path(".next") / "dev" / "lock"
"""The file a running `next dev` holds locked, relative to its folder (Next.js 16.4).

Next.js 16 runs one `next dev` per folder: the server takes an exclusive `flock` on it
(`Lockfile.tryAcquire` in next/dist/build/lockfile.js, `File::try_lock` in its native
bindings), writes `{"pid", "port", "hostname", "appUrl", "startedAt"}` into it, and removes
it on a clean exit. A second one retries for a second, prints "Another next dev server is
already running" and exits with code 1. After a crash the file stays, unlocked: the lock,
not the file, says whether one runs."""


class FrontendUnavailableError(TaskchatError):
    """The frontend cannot be started here; the message says why."""


@dataclass(frozen=True)
class RunningDevServer:
    """A `next dev` already running in the folder, as its lock file describes it."""

    folder: Path
    """The Next.js app's folder."""
    url: str | None
    """Where it serves (`appUrl`), if the lock file said."""
    pid: int | None
    """Its Next.js server's process id, if the lock file said."""

    def __str__(self) -> str:
        where = f" at {self.url}" if self.url else ""
        pid = f"pid {self.pid}; " if self.pid is not None else ""
        return (
            f"another `next dev` already serves {self.folder.name}/{where} ({pid}Next.js runs "
            "one per checkout), talking to the backend of the run that started it"
        )


def running_dev_server(folder: Path = FRONTEND_DIR) -> RunningDevServer | None:
    """The `next dev` running in `folder`, if one holds its lock (see `DEV_LOCK`).

    The lock is only tested, with a shared lock let go at once: a `next dev` starting at
    that very moment retries for a second, longer than this holds it.
    """
    try:
        fd = os.open(folder / DEV_LOCK, os.O_RDONLY)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as lock:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            content = lock.read()
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
    try:
        info = json.loads(content)
    except ValueError:
        info = None
    if not isinstance(info, dict):
        return RunningDevServer(folder, None, None)
    url, pid = info.get("appUrl"), info.get("pid")
    return RunningDevServer(
        folder, url if isinstance(url, str) else None, pid if isinstance(pid, int) else None
    )


def exit_status(code: int) -> str:
    """How a process ended with return code `code`, in words: "exited with code 1"."""
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class CursorCodeFilter:
    """Removes `CURSOR_CODES` from a byte stream read in chunks, also across chunks."""

    def __init__(self) -> None:
        self._held = b""

    def feed(self, chunk: bytes) -> bytes:
        """What of `self._held + chunk` can be passed on now."""
        data = self._strip(self._held + chunk)
        # A tail that may be the start of a code waits for the next chunk.
        held = 0
        for size in range(min(len(data), _LONGEST_PREFIX), 0, -1):
            if any(code.startswith(data[-size:]) for code in CURSOR_CODES):
                held = size
                break
        self._held = data[len(data) - held :]
        return data[: len(data) - held]

    def flush(self) -> bytes:
        """What was held back, at the end of the stream (a code cut short is text)."""
        rest, self._held = self._held, b""
        return rest

    @staticmethod
    def _strip(data: bytes) -> bytes:
        # Again until none is left: removing one may join the halves of another.
        while any(code in data for code in CURSOR_CODES):
            for code in CURSOR_CODES:
                data = data.replace(code, b"")
        return data


def relay(source: BinaryIO, sink: BinaryIO) -> None:
    """Copy `source` to `sink` as it comes, without cursor codes, until `source` ends."""
    codes = CursorCodeFilter()
    writable = True
    while chunk := os.read(source.fileno(), 65536):
        # Read on even when the sink is gone, or the dev server would block on a full pipe.
        if writable:
            writable = _write(sink, codes.feed(chunk))
    if writable:
        _write(sink, codes.flush())
    source.close()


def _write(sink: BinaryIO, data: bytes) -> bool:
    try:
        sink.write(data)
        sink.flush()
    except (OSError, ValueError):
        return False
    return True


class FrontendProcess(subprocess.Popen[bytes]):
    """The dev server, with the threads passing its output on and watching for its end."""

    relay_thread: threading.Thread | None = None
    watch_thread: threading.Thread | None = None
    stopping: bool = False
    """Set by `stop_frontend` before it stops the server: its end is then no news."""


def _watch(process: FrontendProcess, on_exit: Callable[[int], None]) -> None:
    code = process.wait()
    if process.relay_thread is not None:
        # What it said before it ended (its reason), then ours.
        process.relay_thread.join(RELAY_JOIN_SECONDS)
    if not process.stopping:
        on_exit(code)


def start_frontend(
    port: int,
    backend_url: str,
    folder: Path = FRONTEND_DIR,
    output: BinaryIO | None = None,
    on_exit: Callable[[int], None] | None = None,
) -> FrontendProcess:
    """`next dev` on 127.0.0.1:`port`, talking to `backend_url`; installs packages once.

    Its standard output goes to `output` (our standard output unless given), through a
    pipe that drops its cursor codes; its standard error is ours, untouched. Should it end
    without `stop_frontend` (it refused to start, or crashed), `on_exit` gets its return
    code, from another thread, once its output is passed on.
    """
    npm = shutil.which("npm")
    if npm is None:
        raise FrontendUnavailableError("npm is not installed (the frontend needs Node.js 20.9+)")
    if not (folder / "package.json").exists():
        raise FrontendUnavailableError(f"no frontend in {folder}")
    if not (folder / "node_modules").exists():
        installed = subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=folder)
        if installed.returncode != 0:
            raise FrontendUnavailableError("`npm install` failed in frontend/ (see above)")
    sink = output if output is not None else sys.stdout.buffer
    env = {**os.environ, "BACKEND_URL": backend_url, "NEXT_TELEMETRY_DISABLED": "1"}
    if output is None and sys.stdout.isatty() and "NO_COLOR" not in env:
        # Through the pipe Next sees no terminal and would drop its colours; ours is one.
        env.setdefault("FORCE_COLOR", "1")
    process = FrontendProcess(
        [npm, "run", "dev", "--", "--hostname", "127.0.0.1", "--port", str(port)],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        # Its own process group, so stopping it reaches npm and the Next.js server under it.
        start_new_session=True,
    )
    assert process.stdout is not None  # stdout=PIPE
    process.relay_thread = threading.Thread(
        target=relay, args=(process.stdout, sink), name="next-dev-output", daemon=True
    )
    process.relay_thread.start()
    if on_exit is not None:
        process.watch_thread = threading.Thread(
            target=_watch, args=(process, on_exit), name="next-dev-watch", daemon=True
        )
        process.watch_thread.start()
    return process


def stop_frontend(process: subprocess.Popen[bytes], timeout: float = 15) -> bool:
    """Stop the dev server and everything it started, and pass on its last output.

    Returns whether it was still running, that is whether this stopped it.
    """
    if isinstance(process, FrontendProcess):
        process.stopping = True
    # While the watching thread waits for it, `poll` knows nothing and says None.
    running = process.poll() is None
    if running:
        try:
            group = os.getpgid(process.pid)
            os.killpg(group, signal.SIGTERM)
        except ProcessLookupError:
            # It ended on its own just now, and the watching thread collected it.
            running = False
        else:
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(group, signal.SIGKILL)
                process.wait(timeout=timeout)
    relay_thread = getattr(process, "relay_thread", None)
    if isinstance(relay_thread, threading.Thread):
        # Its last lines before ours ("frontend stopped"), not after them.
        relay_thread.join(RELAY_JOIN_SECONDS)
    return running
