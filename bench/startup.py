"""How long the backend takes to start: from the command to the first 200 from /readyz.

For `taskchat serve` and for `taskchat dev --no-frontend` (on the bench's database, so
without the local PostgreSQL; with its reloader, as `make dev` runs it), each started
several times in a row, and next to the floor: `python -c "import fastapi"`, which any
FastAPI app pays. Also when a first `/chatkit` request is answered (a threads.list), which
may come later than readiness: the chat machinery loads after start-up (api/services.py).
Target: `taskchat serve` ready in at most 6 times the floor.

    uv run python bench/startup.py

With `--against DIR`, the same commands of another checkout (DIR, with its own `uv sync`ed
.venv) run in alternation with this one's (each first every other time), on the same
database; the target is then `taskchat serve` ready in at most half the other's time.
For example, against the commit before a change:

    git worktree add /tmp/before HEAD~1 && (cd /tmp/before && uv sync --frozen)
    uv run python bench/startup.py --against /tmp/before

Both checkouts must share the migration head (readiness wants the database at it).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from tests.support.ports import free_port

from bench._support import ROOT, SECRET, database
from taskchat.auth import mint_token
from taskchat.config import Settings

REPETITIONS = 5
FLOOR_TARGET = 6.0
"""Without --against: `taskchat serve` ready in at most this many times the floor."""
AGAINST_TARGET = 0.5
"""With --against: `taskchat serve` ready in at most half the other checkout's time."""
DEADLINE_SECONDS = 120.0
POLL_SECONDS = 0.01
MODES = {
    "serve": ["serve"],
    "dev": ["dev", "--no-frontend"],
}
"""The `taskchat` subcommands measured, by name."""


@dataclass
class Timings:
    """Seconds from the command to each answer, one sample per start."""

    ready: list[float] = field(default_factory=list)
    chat: list[float] = field(default_factory=list)


@dataclass
class Checkout:
    """A checkout whose `taskchat` is measured."""

    name: str
    root: Path
    timings: dict[str, Timings] = field(default_factory=dict)

    @property
    def command(self) -> str:
        return str(self.root / ".venv" / "bin" / "taskchat")


def wait_for(
    child: subprocess.Popen[bytes],
    http: httpx.Client,
    request: httpx.Request,
    start: float,
) -> float:
    """Seconds from `start` until `request` is answered 200."""
    while True:
        if child.poll() is not None:
            raise RuntimeError(f"{child.args!r} exited with {child.returncode}")
        try:
            if http.send(request).status_code == 200:
                return time.perf_counter() - start
        except httpx.HTTPError:
            pass
        if time.perf_counter() - start > DEADLINE_SECONDS:
            raise RuntimeError(f"{child.args!r} not ready after {DEADLINE_SECONDS:.0f} s")
        time.sleep(POLL_SECONDS)


def stop(child: subprocess.Popen[bytes]) -> None:
    """Stop the child and everything it started (the dev reloader's worker): its own
    process group, made for it at its start."""
    if child.poll() is None:
        os.killpg(child.pid, signal.SIGTERM)
    try:
        child.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()


def start_once(checkout: Checkout, mode: str, env: dict[str, str], token: str) -> None:
    """Start `taskchat <mode>` of `checkout` once; record when it was ready and when it
    answered /chatkit."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    http = httpx.Client(timeout=5)
    readyz = http.build_request("GET", f"{base}/readyz")
    chatkit = http.build_request(
        "POST",
        f"{base}/chatkit",
        json={"type": "threads.list", "params": {"limit": 1}},
        headers={"Authorization": f"Bearer {token}"},
    )
    start = time.perf_counter()
    child = subprocess.Popen(
        [checkout.command, *MODES[mode], "--port", str(port)],
        cwd=checkout.root,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        timings = checkout.timings.setdefault(mode, Timings())
        timings.ready.append(wait_for(child, http, readyz, start))
        timings.chat.append(wait_for(child, http, chatkit, start))
    finally:
        stop(child)
        http.close()


def floor_seconds(repetitions: int) -> float:
    """Median wall time of `python -c "import fastapi"` with this checkout's Python."""
    samples = []
    for _ in range(repetitions):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import fastapi"], check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--against",
        type=Path,
        help="compare with the `taskchat` of this checkout (with its own .venv)",
    )
    parser.add_argument("--repetitions", type=int, default=REPETITIONS)
    parser.add_argument(
        "--modes", nargs="+", choices=sorted(MODES), default=list(MODES), help="what to start"
    )
    arguments = parser.parse_args()
    against: Path | None = arguments.against
    repetitions: int = arguments.repetitions
    checkouts = [Checkout("this", ROOT)]
    if against is not None:
        checkouts.append(Checkout("against", against.resolve()))
    with database() as db_url:
        env = {
            "DATABASE_URL": db_url,
            "JWT_SECRET": SECRET,
            "ENVIRONMENT": "production",
            # A model that is never asked: nothing here runs a turn.
            "MODEL_PROVIDER": "openai_compatible",
            "MODEL_BASE_URL": "http://127.0.0.1:9/v1",
            "MODEL_NAME": "unused",
        }
        values: dict[str, Any] = {k.lower(): v for k, v in env.items()}
        settings = Settings(_env_file=None, **values)
        token = mint_token(settings, sub="bench-startup", ttl_seconds=3600)
        floor = floor_seconds(repetitions)
        for repetition in range(repetitions):
            # Alternating: each side starts first every other time, so a slow spell of
            # this shared machine does not land on one side only.
            order = checkouts if repetition % 2 == 0 else checkouts[::-1]
            for mode in arguments.modes:
                for checkout in order:
                    start_once(checkout, mode, env, token)
    print(f'floor, python -c "import fastapi": {floor:.2f} s (median of {repetitions})')
    for mode in arguments.modes:
        for checkout in checkouts:
            timings = checkout.timings[mode]
            ready, chat = statistics.median(timings.ready), statistics.median(timings.chat)
            print(
                f"taskchat {mode:<5} {checkout.name:<7} /readyz 200 after {ready:.2f} s "
                f"({ready / floor:.1f}x the floor), /chatkit after {chat:.2f} s "
                f"(medians of {repetitions}; ready {min(timings.ready):.2f}-"
                f"{max(timings.ready):.2f} s)"
            )
        if against is not None:
            ours, theirs = (statistics.median(c.timings[mode].ready) for c in checkouts)
            ours_chat, theirs_chat = (statistics.median(c.timings[mode].chat) for c in checkouts)
            print(
                f"taskchat {mode:<5} this/against: ready {ours / theirs:.2f}, "
                f"/chatkit {ours_chat / theirs_chat:.2f}"
            )
    serve_ready = (
        statistics.median(checkouts[0].timings["serve"].ready)
        if ("serve" in arguments.modes)
        else None
    )
    if serve_ready is None:
        print("serve not measured: no target checked")
        return
    if against is None:
        ratio, target = serve_ready / floor, FLOOR_TARGET
        summary = f"taskchat serve ready / floor: {ratio:.2f} (target <= {target})"
    else:
        ratio = serve_ready / statistics.median(checkouts[1].timings["serve"].ready)
        target = AGAINST_TARGET
        summary = f"taskchat serve ready this/against: {ratio:.2f} (target <= {target})"
    verdict = "OK" if ratio <= target else "OVER TARGET"
    print(f"{summary} {verdict}")
    sys.exit(0 if verdict == "OK" else 1)


if __name__ == "__main__":
    main()
