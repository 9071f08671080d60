"""Prometheus metrics, served at GET /metrics in the text format.

Each app has its own registry, so several apps in one process (tests) do not collide.
With several worker processes, each keeps its own counts and a scrape sees the worker
that answered it: prefer one worker per container and more replicas (docs/deployment.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

STREAM_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)
MODEL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60)


class PoolCollector(Collector):
    """The database connections of this process, read at scrape time: SQLAlchemy's pool,
    and those lent for one-statement round trips (db/drivers.py)."""

    def __init__(self, engine: AsyncEngine, lent: Callable[[], LentConnections]) -> None:
        self.engine = engine
        self.lent = lent
        """The lent connections: open, idle, and the most there may be."""

    def collect(self) -> Iterator[Metric]:
        pool = self.engine.sync_engine.pool
        # Always true (create_engine builds a queue pool); it tells the type checker that
        # the pool has the counting methods below.
        if not isinstance(pool, QueuePool):
            return
        connections = GaugeMetricFamily(
            "taskchat_db_pool_connections",
            "Database connections of this process's pools, by state.",
            labels=["state"],
        )
        lent = self.lent()
        connections.add_metric(["in_use"], pool.checkedout() + lent.open - lent.idle)
        connections.add_metric(["idle"], pool.checkedin() + lent.idle)
        yield connections
        yield GaugeMetricFamily(
            "taskchat_db_pool_size",
            "Connections the pools keep at most (SQLAlchemy's overflow comes on top).",
            value=pool.size() + lent.size,
        )


@dataclass(frozen=True, slots=True)
class LentConnections:
    """The connections lent for one-statement round trips, at one moment."""

    open: int = 0
    idle: int = 0
    size: int = 0


class Metrics:
    """Every metric the backend records."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "taskchat_http_requests",
            "HTTP requests answered, by method, route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "taskchat_http_request_duration_seconds",
            "Time from request to the end of the response (streams included), by route.",
            ["method", "route"],
            registry=self.registry,
        )
        self.turns = Counter(
            "taskchat_chat_turns",
            "Chat turns, by outcome: completed, error, cut (shutdown) or disconnected.",
            ["outcome"],
            registry=self.registry,
        )
        self.stream_seconds = Histogram(
            "taskchat_chat_stream_duration_seconds",
            "Duration of a chat turn's answer stream.",
            buckets=STREAM_BUCKETS,
            registry=self.registry,
        )
        self.model_first_event_seconds = Histogram(
            "taskchat_model_first_event_seconds",
            "Time from a turn's start to the model's first streamed event.",
            buckets=MODEL_BUCKETS,
            registry=self.registry,
        )
        self.tool_calls = Counter(
            "taskchat_tool_calls",
            "Tool calls the agent made, by tool.",
            ["tool"],
            registry=self.registry,
        )
        self.errors = Counter(
            "taskchat_errors",
            "Errors, by kind: model (provider failures), turn (a turn failed otherwise), "
            "unhandled (a request failed with a 500).",
            ["kind"],
            registry=self.registry,
        )
        self.feedback = Counter(
            "taskchat_feedback",
            "Votes on answers recorded or changed, by kind (positive, negative); the same "
            "vote again is not counted.",
            ["kind"],
            registry=self.registry,
        )
        # Both kinds from the start: a rate over a series that appears only with its first
        # vote misses that vote.
        for kind in ("positive", "negative"):
            self.feedback.labels(kind)

    def watch_pool(
        self, engine: AsyncEngine, lent: Callable[[], LentConnections] = LentConnections
    ) -> Callable[[], None]:
        """Report `engine`'s pool, and the connections `lent` beside it, at each scrape;
        returns what stops it (at shutdown)."""
        collector = PoolCollector(engine, lent)
        self.registry.register(collector)
        return lambda: self.registry.unregister(collector)
