"""Running an ASGI app under a real uvicorn server in a background thread."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable

import httpx
import uvicorn
from starlette.types import ASGIApp

from tests.support.ports import free_port


class LiveServer:
    """The app on a loopback port, served by uvicorn like in production."""

    def __init__(self, app: ASGIApp) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                # As `taskchat serve` runs it: Taskchat's app reads the proxy headers itself,
                # from its FORWARDED_ALLOW_IPS (api/middleware.py).
                proxy_headers=False,
            )
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the app did not start under uvicorn")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=20)


def wait_until_answers(
    process: subprocess.Popen[bytes],
    url: str,
    *,
    accept: Callable[[int], bool],
    failure: Callable[[str], Exception],
    timeout: float = 90,
) -> None:
    """Poll `url` until its status passes `accept`; `failure(reason)` if `process` exits first
    or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise failure(f"exited with {process.returncode}")
        try:
            if accept(httpx.get(url, timeout=1).status_code):
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise failure("did not start in time")
        time.sleep(0.2)
