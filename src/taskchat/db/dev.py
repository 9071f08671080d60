"""Which database a command uses in development: one answer for every command.

With DATABASE_URL set, that one. In development without it, this checkout's dev database
(the one `taskchat dev` keeps in .local/postgres/) when there is one, so `taskchat
migrate`, `serve`, `mcp` and plain `uvicorn taskchat.asgi:app` find the server `make dev`
runs, on whatever port it keeps. Otherwise the built-in default (localhost:5432).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from taskchat.config import Settings
from taskchat.db.diagnose import where
from taskchat.db.local import LocalPostgres, LocalPostgresError

DEV_DATA_DIR = Path(".local/postgres")
"""Where `taskchat dev` keeps this checkout's database (relative to the checkout)."""


class DevDatabaseStoppedError(LocalPostgresError):
    """This checkout has a dev database, but it is not running; the message says what to do."""


@dataclass(frozen=True)
class Choice:
    """The database a command will use, and why, in one line."""

    settings: Settings
    reason: str

    @property
    def worth_saying(self) -> bool:
        """Whether to print `reason`: in development, where the choice is made, and not
        into JSON logs (every line there must be a JSON object)."""
        return self.settings.environment == "development" and self.settings.log_format != "json"


def choose_database(settings: Settings, folder: Path = DEV_DATA_DIR) -> Choice:
    """`settings` with the database this command should use, and a line saying why."""
    address, _, database = where(settings.database_url)
    if "database_url" in settings.model_fields_set:
        return Choice(settings, f"database: {database} at {address} (from DATABASE_URL)")
    if settings.environment != "development":
        return Choice(
            settings, f"database: {database} at {address} (the default; DATABASE_URL is unset)"
        )
    local = LocalPostgres(root=folder.resolve())
    if not local.exists():
        return Choice(
            settings,
            f"database: {database} at {address} (the default: DATABASE_URL is unset and "
            f"there is no dev database in {folder}; `make dev` makes one)",
        )
    port = local.live_port()
    if port is None or not local.password_file.exists():
        raise DevDatabaseStoppedError(
            f"DATABASE_URL is unset and this checkout's dev database ({folder}) is not "
            "running: start it with `make dev` (or `uv run taskchat dev`), or set DATABASE_URL."
        )
    local.port = port
    local.password = local.password_file.read_text().strip()
    chosen = settings.model_copy(update={"database_url": local.url})
    return Choice(
        chosen,
        f"database: the dev database in {folder} (127.0.0.1:{port}; DATABASE_URL is unset)",
    )
