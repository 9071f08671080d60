"""The Next.js development server, run beside the backend by `taskchat dev`."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

from taskchat.db.migrate import PROJECT_ROOT
from taskchat.errors import TaskchatError

FRONTEND_DIR = PROJECT_ROOT / "frontend"


class FrontendUnavailableError(TaskchatError):
    """The frontend cannot be started here; the message says why."""


def start_frontend(
    port: int, backend_url: str, folder: Path = FRONTEND_DIR
) -> subprocess.Popen[bytes]:
    """`next dev` on 127.0.0.1:`port`, talking to `backend_url`; installs packages once."""
    npm = shutil.which("npm")
    if npm is None:
        raise FrontendUnavailableError("npm is not installed (the frontend needs Node.js 20.9+)")
    if not (folder / "package.json").exists():
        raise FrontendUnavailableError(f"no frontend in {folder}")
    if not (folder / "node_modules").exists():
        installed = subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=folder)
        if installed.returncode != 0:
            raise FrontendUnavailableError("`npm install` failed in frontend/ (see above)")
    env = {**os.environ, "BACKEND_URL": backend_url, "NEXT_TELEMETRY_DISABLED": "1"}
    return subprocess.Popen(
        [npm, "run", "dev", "--", "--hostname", "127.0.0.1", "--port", str(port)],
        cwd=folder,
        env=env,
        # Its own process group, so stopping it reaches npm and the Next.js server under it.
        start_new_session=True,
    )


def stop_frontend(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """Stop the dev server and everything it started."""
    if process.poll() is not None:
        return
    group = os.getpgid(process.pid)
    os.killpg(group, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(group, signal.SIGKILL)
        process.wait(timeout=timeout)
