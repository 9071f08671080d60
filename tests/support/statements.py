"""Counting the statements an engine's connections send, from both of its pools."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.db.drivers import drivers_of


def counted(engine: AsyncEngine) -> list[str]:
    """Every statement the engine's pooled connections send from now on."""
    sent: list[str] = []

    def log(record: Any) -> None:
        sent.append(record.query)

    def on_checkout(dbapi_connection: Any, *_: object) -> None:
        # A set inside asyncpg: adding the same logger again changes nothing.
        dbapi_connection.driver_connection.add_query_logger(log)

    event.listen(engine.sync_engine, "checkout", on_checkout)
    # And those lent for one-statement round trips, from their own pool.
    drivers_of(engine).add_query_logger(log)
    return sent
