"""Graceful shutdown: on SIGTERM, let running chat streams finish, then cut the rest.

`install_signal_hooks()` (run at each app's start-up, in each worker process) chains onto the
server's SIGTERM/SIGINT handlers and calls `begin()` when a signal arrives; uvicorn then
stops accepting connections and waits for the running ones (`--timeout-graceful-shutdown`,
which `taskchat serve` sets from SHUTDOWN_GRACE_SECONDS). Turns register their agent
run here; shortly before the grace period ends, the runs still going are stopped, and
each of those turns stores what it has so far and ends its stream with a notice, so no
answer is lost and no stream is broken off mid-event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Protocol

logger = logging.getLogger("taskchat.drain")

CUT_MARGIN_SECONDS = 2.0
"""How long before the grace period's end the runs are stopped: time to store and finish."""


class Run(Protocol):
    """What the drain needs of an agent run (the Agents SDK's `RunResultStreaming`)."""

    @property
    def is_complete(self) -> bool:
        """Whether the run has ended."""
        ...

    def cancel(self) -> None:
        """Stop the run."""
        ...


class Drain:
    """An app's shutdown state and the agent runs in flight (one per app, in its services)."""

    def __init__(self) -> None:
        self.draining = False
        # Keyed by id(): the SDK's run results are dataclasses, and not hashable.
        self._runs: dict[int, Run] = {}
        self._cut: set[int] = set()
        """The tracked runs that the shutdown stopped (ids of runs still tracked)."""
        self._cutting = False

    def track(self, run: Run) -> None:
        """Watch `run` until `untrack`; one started after the cut is stopped at once."""
        self._runs[id(run)] = run
        if self._cutting:
            self._stop(run)

    def untrack(self, run: Run) -> bool:
        """Stop watching `run`; whether the shutdown stopped it (rather than it ending)."""
        # Forgotten here, while the caller still holds `run`, so its id cannot be reused.
        self._runs.pop(id(run), None)
        if id(run) in self._cut:
            self._cut.discard(id(run))
            return True
        return False

    def begin(self, grace_seconds: float) -> None:
        """Start draining: runs get `grace_seconds` (less a margin) to finish."""
        if self.draining:
            return
        self.draining = True
        delay = max(0.0, grace_seconds - min(CUT_MARGIN_SECONDS, grace_seconds / 2))
        logger.info("shutting down: %d turn(s) running, %.1f s to finish", len(self._runs), delay)
        asyncio.get_running_loop().call_later(delay, self.cut_runs)

    def cut_runs(self) -> None:
        """Stop every run still going; their turns store and end their streams."""
        self._cutting = True
        if self._runs:
            logger.warning("grace period over: cutting %d running turn(s)", len(self._runs))
        for run in list(self._runs.values()):
            self._stop(run)

    def _stop(self, run: Run) -> None:
        if not run.is_complete:
            self._cut.add(id(run))
            run.cancel()


def install_signal_hooks(drain: Drain, grace_seconds: float) -> Callable[[], None]:
    """Start `drain` on SIGTERM or SIGINT, then let the server's own handler run.

    Run from the app's start-up, after uvicorn has installed its handlers; only the main
    thread can set signal handlers, so an app served from another thread (tests) is left
    as it is. Returns what puts the previous handlers back (at the app's shutdown).
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    previous_handlers = {
        signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)
    }
    for signum, previous in previous_handlers.items():

        def handler(number: int, frame: FrameType | None, previous: object = previous) -> None:
            # From a signal handler: hand over to the loop, which owns the drain. The
            # signal must reach the previous handler even if that loop has closed.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(drain.begin, grace_seconds)
            if callable(previous):
                previous(number, frame)
            elif previous == signal.SIG_DFL:
                # Nobody else handles it: do what the signal would have done.
                signal.signal(number, signal.SIG_DFL)
                signal.raise_signal(number)

        signal.signal(signum, handler)

    def restore() -> None:
        for signum, previous in previous_handlers.items():
            signal.signal(signum, previous)

    return restore
