"""Operator commands that span every user: `taskchat feedback export` and
`taskchat attachments sweep` (the `taskchat` command registers them)."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer

from taskchat.cli.common import command_settings, fail, with_database

feedback_cli = typer.Typer(
    help="Votes on answers (👍/👎): operator commands.", no_args_is_help=True
)


class FeedbackKind(StrEnum):
    """--kind of `feedback export`."""

    positive = "positive"
    negative = "negative"


@feedback_cli.command("export")
def feedback_export(
    since: Annotated[
        str | None,
        typer.Option(
            help="Only votes given or changed at or after this time: a date (2026-11-30, "
            "midnight UTC) or an ISO time (2026-11-30T09:00:00Z; UTC without an offset)."
        ),
    ] = None,
    kind: Annotated[FeedbackKind | None, typer.Option(help="Only this kind of vote.")] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the CSV to this file (readable by you alone) instead of stdout.",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Every user's votes as CSV, for reviewing answers: thread_id, item_id, kind, time,
    assistant_text, user_message. It holds people's messages: see docs/features.md."""
    from taskchat.chat.feedback.export import ExportWriteError, parse_since

    try:
        start = parse_since(since) if since is not None else None
    except ValueError as error:
        fail(str(error), 2)
    url = command_settings().database_url
    try:
        with _csv_output(output) as out:
            written = with_database(
                url, lambda: asyncio.run(_export_feedback(url, out, start, kind))
            )
    except ExportWriteError as error:
        fail(str(error))
    where = f"to {output}" if output is not None else "to stdout"
    typer.echo(f"exported {written} vote(s) {where}", err=True)


async def _export_feedback(
    url: str, out: TextIO, since: datetime | None, kind: FeedbackKind | None
) -> int:
    from taskchat.chat.feedback.export import export_feedback
    from taskchat.chat.feedback.votes import Kind
    from taskchat.db.diagnose import schema_problem
    from taskchat.db.engine import close_engine, create_engine

    chosen: Kind | None = None
    if kind is not None:
        chosen = "positive" if kind is FeedbackKind.positive else "negative"
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        problem = await schema_problem(engine, url)
        if problem is not None:
            fail(problem)
        return await export_feedback(engine=engine, out=out, since=since, kind=chosen)
    finally:
        await close_engine(engine)


@contextmanager
def _csv_output(path: Path | None) -> Iterator[TextIO]:
    """Where the CSV goes: stdout, or `path` through a file only its owner can read, put in
    place only once complete (a failed export leaves no half file, nor an old one changed).
    UTF-8 whatever the locale, with the CSV's own line ends (csv wants newline="")."""
    if path is None:
        stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
        try:
            yield stdout
        finally:
            stdout.detach()  # flushes; stdout itself stays open
        return
    partial = path.with_name(f".{path.name}.partial")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as error:
        fail(f"cannot write {path}: {error.strerror or error}", 2)
    try:
        with open(descriptor, "w", encoding="utf-8", newline="") as out:
            yield out
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


attachments_cli = typer.Typer(help="Attachment maintenance.", no_args_is_help=True)


@attachments_cli.command("sweep")
def sweep_attachments(
    older_than_hours: Annotated[
        float, typer.Option(min=1, help="Delete unsent attachments older than this.")
    ] = 24,
) -> None:
    """Delete every user's attachments never sent in a message (and their files), older
    than a day; the backend does it every hour too."""
    from datetime import timedelta

    from taskchat.db.engine import close_engine, create_engine
    from taskchat.files.sweep import sweep_unsent

    url = command_settings().database_url

    async def run() -> int | None:
        engine = create_engine(url, pool_size=1, max_overflow=0)
        try:
            return await sweep_unsent(engine, older_than=timedelta(hours=older_than_hours))
        finally:
            await close_engine(engine)

    deleted = with_database(url, lambda: asyncio.run(run()))
    if deleted is None:
        typer.echo("another process is sweeping right now; nothing done (try again later)")
    else:
        typer.echo(f"deleted {deleted} unsent attachment(s) older than {older_than_hours:g} hours")


__all__ = ["attachments_cli", "feedback_cli"]
