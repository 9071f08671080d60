"""Running and checking alembic migrations from code."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def alembic_config(database_url: str) -> Config:
    """An alembic Config for this project's migrations and `database_url`."""
    ini = PROJECT_ROOT / "alembic.ini"
    config = Config(str(ini)) if ini.exists() else Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    return config


def head_revision(database_url: str = "") -> str | None:
    """The newest revision the code knows."""
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


async def upgrade(database_url: str, revision: str = "head") -> None:
    """`alembic upgrade` in a worker thread (the env runs its own event loop)."""
    await asyncio.to_thread(command.upgrade, alembic_config(database_url), revision)


async def downgrade(database_url: str, revision: str = "base") -> None:
    """`alembic downgrade` in a worker thread."""
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None before the first migration."""
    async with engine.connect() as conn:
        try:
            version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
            return str(version) if version is not None else None
        except ProgrammingError:
            return None
