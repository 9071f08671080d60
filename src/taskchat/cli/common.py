"""What every `taskchat` command shares: one-line failures, the settings with the
database the command uses, and database failures told in a line or two."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import NoReturn, TypeVar

import typer

from taskchat.config import Settings, load_settings

T = TypeVar("T")

_debug = False
"""--debug: let errors end in their traceback instead of the one-or-two-line message."""


def show_tracebacks() -> None:
    """--debug was given."""
    global _debug
    _debug = True


def fail(message: str, code: int = 1) -> NoReturn:
    """End the command with `message` on stderr and exit `code`."""
    typer.echo(message, err=True)
    raise typer.Exit(code)


def command_settings() -> Settings:
    """The settings, with the database this command uses (see db/dev.py), said in a line.

    The chosen URL also goes into the environment: the server's reloader and workers, and
    the app factories, read their settings from it.
    """
    from taskchat.db.dev import DevDatabaseStoppedError, choose_database

    settings = load_settings()
    if settings.log_level == "DEBUG":
        show_tracebacks()
    try:
        choice = choose_database(settings)
    except DevDatabaseStoppedError as stopped:
        fail(str(stopped), 2)
    if choice.worth_saying:
        typer.echo(choice.reason, err=True)
    os.environ["DATABASE_URL"] = choice.settings.database_url
    return choice.settings


def with_database(url: str, step: Callable[[], T]) -> T:
    """`step()`, with a failure to reach or use the database at `url` told in a line or two."""
    from taskchat.db.diagnose import explain

    try:
        return step()
    except Exception as error:
        message = explain(error, url)
        if message is None or _debug:
            raise
        fail(message)


__all__ = ["command_settings", "fail", "show_tracebacks", "with_database"]
