"""`taskchat serve` in a subprocess, as the compose stack runs it, with its logs kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.fake_openai import FakeOpenAI
from tests.support.live import wait_until_answers
from tests.support.ports import free_port
from tests.support.settings import SCRIPTED_MODEL, TEST_SECRET


@dataclass
class Served:
    """A running `taskchat serve`."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, as Docker sends it; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


def served_env(database_url: str, model: FakeOpenAI, **settings: str) -> dict[str, str]:
    """The environment of a served backend that uses the scripted model."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "JWT_SECRET": TEST_SECRET,
        "ENVIRONMENT": "test",
        "MODEL_BASE_URL": model.base_url,
        **{name.upper(): str(value) for name, value in SCRIPTED_MODEL.items()},
        **settings,
    }


@contextmanager
def served(env: dict[str, str]) -> Iterator[Served]:
    """Start `taskchat serve` on a free port and wait until /readyz answers 200."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="taskchat-served-") as folder:
        log_path = Path(folder) / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "taskchat.cli", "serve", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        backend = Served(process, f"http://127.0.0.1:{port}", log_path)
        try:
            wait_until_answers(
                process,
                f"{backend.url}/readyz",
                accept=lambda status: status == 200,
                failure=lambda reason: AssertionError(f"serve {reason}:\n{backend.logs()}"),
            )
            yield backend
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
