"""The ASGI app for `uvicorn taskchat.asgi:app`."""

import os
import sys

from taskchat.app import create_app
from taskchat.config import Settings, load_settings
from taskchat.db.dev import DevDatabaseStoppedError, choose_database


def _settings() -> Settings:
    """The settings, with the database `taskchat` commands would choose (db/dev.py).

    Said in a line only when it was a choice: under `taskchat serve` or `dev` the command
    has chosen already and passed it on in DATABASE_URL.
    """
    settings = load_settings()
    try:
        choice = choose_database(settings)
    except DevDatabaseStoppedError as stopped:
        print(stopped, file=sys.stderr)  # noqa: T201
        raise SystemExit(2) from None
    if choice.worth_saying and "DATABASE_URL" not in os.environ:
        print(choice.reason, file=sys.stderr)  # noqa: T201
    return choice.settings


app = create_app(_settings())
