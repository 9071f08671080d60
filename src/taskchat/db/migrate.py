"""Running and checking alembic migrations from code.

alembic itself is imported only to run migrations: its import (mako, pygments, every
SQLAlchemy dialect) would slow the way to the app's first /readyz (bench/startup.py), which
only needs the head revision's name.
"""

from __future__ import annotations

import ast
import asyncio
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

PROJECT_ROOT = Path(__file__).resolve().parents[3]
VERSIONS = PROJECT_ROOT / "migrations" / "versions"


def alembic_config(database_url: str) -> Config:
    """An alembic Config for this project's migrations and `database_url`."""
    from alembic.config import Config

    ini = PROJECT_ROOT / "alembic.ini"
    config = Config(str(ini)) if ini.exists() else Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    return config


@cache
def head_revision() -> str | None:
    """The newest revision the code knows: the one that no other revision revises.

    Read from the revision files' `revision` and `down_revision` assignments, not through
    alembic (see the module's docstring); a test holds it to alembic's own answer.
    """
    revises: dict[str, str | None] = {}
    for path in VERSIONS.glob("*.py"):
        found: dict[str, object] = {}
        for node in ast.parse(path.read_text(), str(path)).body:
            if isinstance(node, ast.AnnAssign | ast.Assign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                        found[target.id] = ast.literal_eval(node.value)
        revision, down = found.get("revision"), found.get("down_revision")
        if not isinstance(revision, str) or not (down is None or isinstance(down, str)):
            raise RuntimeError(f"{path.name}: no plain revision and down_revision")
        revises[revision] = down
    heads = set(revises) - set(revises.values())
    if len(heads) > 1:
        raise RuntimeError(f"migrations have several heads: {sorted(heads)}")
    return heads.pop() if heads else None


async def upgrade(database_url: str, revision: str = "head") -> None:
    """`alembic upgrade` in a worker thread (the env runs its own event loop)."""
    from alembic import command

    await asyncio.to_thread(command.upgrade, alembic_config(database_url), revision)


async def downgrade(database_url: str, revision: str = "base") -> None:
    """`alembic downgrade` in a worker thread."""
    from alembic import command

    await asyncio.to_thread(command.downgrade, alembic_config(database_url), revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None before the first migration."""
    async with engine.connect() as conn:
        try:
            version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
            return str(version) if version is not None else None
        except ProgrammingError:
            return None
