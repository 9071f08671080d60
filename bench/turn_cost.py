"""What a chat turn costs the server: Taskchat against a bare ChatKitServer.

Taskchat with production settings (JSON logs at INFO, metrics on, the per-user chat limits
on, and a database role without BYPASSRLS, so row-level security applies to every
statement), and the bare ChatKitServer of bench/_apps.py (an in-memory store, no auth, no
tools server: the same model client and tool definitions), each in its own uvicorn
process, against one scripted model, with the same load, at 1 and 50 concurrent
conversations (one user each), for two kinds of turn measured apart: a new thread's first
turn (`threads.create`; Taskchat also titles the thread, one more model request) and a
later turn of a thread (`threads.add_user_message`, with the thread's history). Each kind
and level runs three batches per server, alternating which server goes first. Per server
and batch: the server process's CPU time per turn (user + system, from /proc), turns per
second, mean, p50 and p95 turn time, and the median time to the first event; then the
ratios Taskchat/bare, and their medians over the three batches.

Judge the mean, the throughput and the CPU, not the p50 alone: the bare server starves
some turns at 50 concurrent (its p95 is often twice its p50).

Target at 50 concurrent, for each kind (median of the three batches): CPU per turn at most
0.8 of the bare server's, mean turn at most 1.0 of its, throughput at least 1.0 of its.

The scripted model answers in one text chunk. A real answer streams dozens of deltas, and
every delta costs each server again (an event to build, merge, convert and send):
`--deltas N` scripts every measured turn's answer as N deltas instead.

`--against DIR` puts the Taskchat of another checkout (with its own .venv) where the bare
server was, with the same users, so a change is measured against the code before it in one
run; the target is then CPU per turn at most 1.05 of the other checkout's.

    uv run python bench/turn_cost.py
    uv run python bench/turn_cost.py --deltas 40
    uv run python bench/turn_cost.py --against /tmp/before
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from tests.support.ports import free_port

from bench._support import (
    PRODUCTION_LOGS,
    UVICORN,
    baseline,
    cpu_seconds,
    database,
    mean_ms,
    median_ms,
    p95_ms,
    process,
    scripted_model,
    taskchat_env,
    user_headers,
)
from bench.chatkit_overhead import Bodies, Samples, Users, first_turns, load, open_threads

Answers = Callable[[int], Awaitable[None]]
"""Script the scripted model's next answers (this many), before a batch."""

KINDS = ("first turns", "later turns")
LEVELS = ((1, 100), (50, 500))
"""(concurrent conversations, turns per batch)."""
BATCHES = 3
CPU_TARGET = 0.8
MEAN_TARGET = 1.0
THROUGHPUT_TARGET = 1.0
AGAINST_CPU_TARGET = 1.05
"""With --against: CPU per turn against the other checkout's, within this run's noise."""
SETTLE_SECONDS = 0.3
"""Pause after a batch before its CPU is read: work a turn leaves behind (a title call
finishing after its stream) counts for the server that made it."""


@dataclass
class Batch:
    """One server's batch: its turns and what they cost."""

    samples: Samples
    cpu_per_turn: float
    turns_per_second: float

    @property
    def turns(self) -> int:
        return len(self.samples.full)


@dataclass
class Server:
    name: str
    url: str
    users: Users
    pid: int
    bodies: Bodies = first_turns
    """The requests of this kind of turn, by conversation."""


async def batch(server: Server, concurrency: int, turns: int) -> Batch:
    cpu = cpu_seconds(server.pid)
    start = time.perf_counter()
    samples = await load(server.url, server.users, concurrency, turns, server.bodies)
    wall = time.perf_counter() - start
    await asyncio.sleep(SETTLE_SECONDS)
    done = max(1, len(samples.full))
    return Batch(samples, (cpu_seconds(server.pid) - cpu) / done, done / wall)


def describe(name: str, run: Batch) -> str:
    full = run.samples.full
    return (
        f"{name:<8} CPU/turn {run.cpu_per_turn * 1000:6.2f} ms, {run.turns_per_second:6.1f} "
        f"turns/s, turn mean/p50/p95 {mean_ms(full):7.1f}/{median_ms(full):7.1f}/"
        f"{p95_ms(full):7.1f} ms, first event {median_ms(run.samples.first):7.1f} ms"
    )


@dataclass
class Ratios:
    cpu: float
    mean: float
    throughput: float
    first_event: float


def ratios(ours: Batch, bare: Batch) -> Ratios:
    return Ratios(
        cpu=ours.cpu_per_turn / bare.cpu_per_turn,
        mean=mean_ms(ours.samples.full) / mean_ms(bare.samples.full),
        throughput=ours.turns_per_second / bare.turns_per_second,
        first_event=median_ms(ours.samples.first) / median_ms(bare.samples.first),
    )


async def scripted_answers(control: str, deltas: int, count: int) -> None:
    """The scripted model's next `count` answers: `deltas` text deltas each (1: its own
    one-chunk answer, nothing scripted)."""
    if deltas > 1:
        async with httpx.AsyncClient() as http:
            answer = {"text": ["word "] * deltas}
            (await http.post(f"{control}/script", json=[answer] * count)).raise_for_status()


async def level(
    kind: str, ours: Server, bare: Server, concurrency: int, turns: int, answers: Answers
) -> tuple[Ratios, bool]:
    """Three alternating batches of `kind` at `concurrency`, each server's turns answered
    as `answers` scripts them; the median ratios, and whether all turns were answered."""
    if kind == "later turns":
        for server in (ours, bare):
            server.bodies = await open_threads(server.url, server.users, concurrency)
    # Warm-up: connections, caches, the first statements' plans.
    for server in (ours, bare):
        await load(server.url, server.users, concurrency, concurrency * 2, server.bodies)
    found: list[Ratios] = []
    clean = True
    for number in range(BATCHES):
        order = (ours, bare) if number % 2 == 0 else (bare, ours)
        runs = {}
        for server in order:
            await answers(turns)
            runs[server.name] = await batch(server, concurrency, turns)
        mine, theirs = runs[ours.name], runs[bare.name]
        found.append(ratios(mine, theirs))
        print(f"{kind}, {concurrency:>2} concurrent, batch {number + 1}:")
        print("  " + describe(ours.name, mine))
        print("  " + describe(bare.name, theirs))
        last = found[-1]
        print(
            f"  ratios: CPU/turn {last.cpu:.2f}, mean turn {last.mean:.2f}, "
            f"throughput {last.throughput:.2f}, first event {last.first_event:.2f}"
        )
        for name, run in runs.items():
            if run.samples.errors or run.turns < turns:
                clean = False
                print(
                    f"  {name} errors: {run.samples.errors[:3]} ({run.turns} of {turns} answered)"
                )
    median = Ratios(
        cpu=statistics.median(each.cpu for each in found),
        mean=statistics.median(each.mean for each in found),
        throughput=statistics.median(each.throughput for each in found),
        first_event=statistics.median(each.first_event for each in found),
    )
    print(
        f"{kind}, {concurrency:>2} concurrent, median of {BATCHES}: CPU/turn {median.cpu:.2f}, "
        f"mean turn {median.mean:.2f}, throughput {median.throughput:.2f}, "
        f"first event {median.first_event:.2f}"
    )
    return median, clean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--deltas",
        type=int,
        default=1,
        help="text deltas in each measured answer (default 1: the scripted one-chunk answer)",
    )
    parser.add_argument(
        "--against",
        type=Path,
        help="compare with the Taskchat of this checkout (with its own .venv) instead",
    )
    arguments = parser.parse_args()
    deltas, against = max(1, arguments.deltas), arguments.against
    base_python, base_root, base_app = baseline(against)
    model_cmd, model_url, model_probe = scripted_model()
    answers = partial(scripted_answers, model_url.removesuffix("/v1") + "/_control", deltas)
    ours_port, bare_port = free_port(), free_port()
    with database() as db_url:
        env = taskchat_env(db_url, model_url, **PRODUCTION_LOGS)
        with (
            process(model_cmd, {}, model_probe),
            process(
                [sys.executable, *UVICORN, "bench._apps:taskchat_app", "--port", str(ours_port)],
                env,
                f"http://127.0.0.1:{ours_port}/healthz",
                quiet=True,
            ) as ours_process,
            process(
                [base_python, *UVICORN, base_app, "--port", str(bare_port)],
                env,
                f"http://127.0.0.1:{bare_port}/healthz",
                quiet=True,
                root=base_root,
            ) as bare_process,
        ):
            users = user_headers(env, max(concurrency for concurrency, _ in LEVELS))
            ours_url = f"http://127.0.0.1:{ours_port}/chatkit"
            bare_url = f"http://127.0.0.1:{bare_port}/chatkit"
            results = {
                (kind, concurrency): asyncio.run(
                    level(
                        kind,
                        Server("taskchat", ours_url, users, ours_process.pid),
                        Server(
                            "bare" if against is None else "before",
                            bare_url,
                            [{}] * len(users) if against is None else users,
                            bare_process.pid,
                        ),
                        concurrency,
                        turns,
                        answers,
                    )
                )
                for kind in KINDS
                for concurrency, turns in LEVELS
            }
    clean = all(answered for _, answered in results.values())
    within = True
    for kind in KINDS:
        at_50 = results[(kind, 50)][0]
        if against is not None:
            kind_within = at_50.cpu <= AGAINST_CPU_TARGET
            print(
                f"{kind} at 50 concurrent against {against}: CPU/turn {at_50.cpu:.2f} "
                f"(target <= {AGAINST_CPU_TARGET}), mean turn {at_50.mean:.2f}, throughput "
                f"{at_50.throughput:.2f} {'within' if kind_within else 'over'}"
            )
        else:
            kind_within = (
                at_50.cpu <= CPU_TARGET
                and at_50.mean <= MEAN_TARGET
                and at_50.throughput >= THROUGHPUT_TARGET
            )
            print(
                f"{kind} at 50 concurrent: CPU/turn {at_50.cpu:.2f} (target <= {CPU_TARGET}), "
                f"mean turn {at_50.mean:.2f} (<= {MEAN_TARGET}), throughput "
                f"{at_50.throughput:.2f} (>= {THROUGHPUT_TARGET}) "
                f"{'within' if kind_within else 'over'}"
            )
        within = within and kind_within
    if deltas > 1:
        print(f"(each measured answer streamed as {deltas} deltas)")
    print("OK" if within and clean else "OVER TARGET")
    sys.exit(0 if within and clean else 1)


if __name__ == "__main__":
    main()
