"""Helpers shared by the benchmarks: a database, processes on loopback, statistics."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from tests.support.ports import free_port

from taskchat.auth import mint_token
from taskchat.config import Settings
from taskchat.db.local import migrated_database

ROOT = Path(__file__).resolve().parents[1]

SECRET = "bench-secret-" + "x" * 40
"""The JWT secret of every benchmarked Taskchat."""

UVICORN = ["-m", "uvicorn", "--factory", "--log-level", "warning"]
"""A benchmarked app's server: one uvicorn worker, after `python`."""

PRODUCTION_LOGS = {"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
"""Logging as in production: a JSON line per request."""


def taskchat_env(db_url: str, model_url: str, **extra: str) -> dict[str, str]:
    """The environment of a benchmarked Taskchat (production, the scripted model), with
    `extra` on top. The chat limits run but never refuse a turn: what is measured is
    their cost, not their refusals."""
    return {
        "DATABASE_URL": db_url,
        "JWT_SECRET": SECRET,
        "ENVIRONMENT": "production",
        "MODEL_PROVIDER": "openai_compatible",
        "MODEL_BASE_URL": model_url,
        "MODEL_NAME": "scripted",
        "MODEL_MAX_RETRIES": "2",
        "CHAT_TURNS_PER_MINUTE": "1000000",
        "CHAT_CONCURRENT_STREAMS": "100000",
        **extra,
    }


def user_headers(env: dict[str, str], count: int) -> list[dict[str, str]]:
    """The Authorization headers of `count` users of the Taskchat that `env` configures,
    one user per concurrent conversation (as people chat)."""
    values: dict[str, Any] = {key.lower(): value for key, value in env.items()}
    settings = Settings(_env_file=None, **values)
    return [
        {"Authorization": "Bearer " + mint_token(settings, sub=f"bench-user-{n}", ttl_seconds=3600)}
        for n in range(count)
    ]


@contextmanager
def database() -> Iterator[str]:
    """BENCH_DATABASE_URL, or a throwaway local PostgreSQL, migrated."""
    with migrated_database(os.environ.get("BENCH_DATABASE_URL")) as url:
        yield url


def baseline(against: Path | None) -> tuple[str, Path, str]:
    """What a benchmark compares Taskchat with: the bare ChatKitServer of bench/_apps.py
    (None), or the Taskchat of another checkout, with its own .venv (`--against DIR`). Its
    Python, the folder it runs from, and its app (a uvicorn factory)."""
    if against is None:
        return sys.executable, ROOT, "bench._apps:baseline_app"
    root = against.resolve()
    return str(root / ".venv" / "bin" / "python"), root, "bench._apps:taskchat_app"


@contextmanager
def process(
    args: list[str], env: dict[str, str], health_url: str, root: Path = ROOT, *, quiet: bool = False
) -> Iterator[subprocess.Popen[bytes]]:
    """A child process that serves HTTP from `root`; waits until `health_url` answers.

    `quiet`: its output (a server's log lines, one per request) is dropped, not printed
    among the results; writing it still costs the child what it costs in production."""
    output = subprocess.DEVNULL if quiet else None
    child = subprocess.Popen(
        args,
        cwd=root,
        env={**os.environ, **env, "PYTHONPATH": str(root)},
        stdout=output,
        stderr=output,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            if child.poll() is not None:
                raise RuntimeError(f"{args} exited with {child.returncode}")
            try:
                if httpx.get(health_url, timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{args} did not start")
            time.sleep(0.2)
        yield child
    finally:
        child.terminate()
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()


def scripted_model() -> tuple[list[str], str, str]:
    """Command, base URL and probe URL of a scripted model server on a free port."""
    port = free_port()
    return (
        [sys.executable, "-m", "tests.support.fake_openai", str(port)],
        f"http://127.0.0.1:{port}/v1",
        f"http://127.0.0.1:{port}/v1/chat/completions",
    )


async def alternating_batches(
    measure: Callable[[str], Awaitable[float]], ours: str, theirs: str, batches: int, unit: str
) -> list[float]:
    """`batches` batches of `measure` (seconds of CPU per `unit`) for `ours` and `theirs`,
    each going first every other time; each batch printed, and its ratio ours/theirs."""
    ratios = []
    for number in range(batches):
        order = (ours, theirs) if number % 2 == 0 else (theirs, ours)
        found = {name: await measure(name) for name in order}
        ratios.append(found[ours] / found[theirs])
        print(
            f"batch {number + 1}: {ours} {found[ours] * 1e6:6.1f} us, {theirs} "
            f"{found[theirs] * 1e6:6.1f} us of CPU per {unit}; ratio {ratios[-1]:.2f}"
        )
    return ratios


def median_ratio(ratios: list[float], label: str, target: float) -> float:
    """The median of a bench's per-batch ratios, printed with its verdict against `target`
    (a ratio that must not exceed it)."""
    median = statistics.median(ratios)
    verdict = "OK" if median <= target else "OVER TARGET"
    print(f"median ratio {label}: {median:.2f} (target <= {target}) {verdict}")
    return median


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def mean_ms(samples: list[float]) -> float:
    return statistics.fmean(samples) * 1000


def p95_ms(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] * 1000


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command name: utime and stime are the 12th and 13th fields.
    return (int(fields[11]) + int(fields[12])) / _TICKS
