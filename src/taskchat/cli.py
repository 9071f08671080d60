"""The `taskchat` command: serve, migrate, token, mcp, dev, feedback export, attachments."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn, TextIO, TypeVar

import typer

from taskchat.config import Settings, load_settings

cli = typer.Typer(help="Taskchat: a self-hosted ChatKit task assistant.", no_args_is_help=True)

T = TypeVar("T")

_debug = False
"""--debug: let errors end in their traceback instead of the one-or-two-line message."""


@cli.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks (also with LOG_LEVEL=DEBUG).")
    ] = False,
) -> None:
    global _debug
    _debug = debug


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _settings() -> Settings:
    """The settings, with the database this command uses (see db/dev.py), said in a line.

    The chosen URL also goes into the environment: the server's reloader and workers, and
    the app factories, read their settings from it.
    """
    from taskchat.db.dev import DevDatabaseStoppedError, choose_database

    settings = load_settings()
    global _debug
    _debug = _debug or settings.log_level == "DEBUG"
    try:
        choice = choose_database(settings)
    except DevDatabaseStoppedError as stopped:
        _fail(str(stopped), 2)
    if choice.worth_saying:
        typer.echo(choice.reason, err=True)
    os.environ["DATABASE_URL"] = choice.settings.database_url
    return choice.settings


def _with_database(url: str, step: Callable[[], T]) -> T:
    """`step()`, with a failure to reach or use the database at `url` told in a line or two."""
    from taskchat.db.diagnose import explain

    try:
        return step()
    except Exception as error:
        message = explain(error, url)
        if message is None or _debug:
            raise
        _fail(message)


def _port_taken(host: str, port: int, option: str) -> None:
    from taskchat.serving import port_in_use

    if port_in_use(host, port):
        _fail(
            f"port {port} on {host} is already in use (another `taskchat dev` or server?): "
            f"choose another with {option}",
            2,
        )


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default: the WORKERS setting).")
    ] = None,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development).")] = False,
) -> None:
    """Run the backend with uvicorn; SIGTERM drains it (see SHUTDOWN_GRACE_SECONDS)."""
    from taskchat import serving

    settings = _settings()  # fail here, with a clear line, rather than inside a worker
    _port_taken(host, port, "--port")
    serving.run(
        "taskchat.asgi:app",
        settings,
        host=host,
        port=port,
        workers=workers or settings.workers,
        reload=reload,
    )


@cli.command()
def dev(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    data_dir: Annotated[
        Path, typer.Option(help="Folder of the local PostgreSQL (when DATABASE_URL is unset).")
    ] = Path(".local/postgres"),
    reload: Annotated[bool, typer.Option(help="Reload on code changes.")] = True,
    frontend: Annotated[
        bool, typer.Option(help="Also run the Next.js app (next dev) against this backend.")
    ] = True,
    frontend_port: Annotated[int, typer.Option(help="Port of the Next.js app.")] = 3000,
) -> None:
    """Run the app for development: a local PostgreSQL (unless DATABASE_URL is set),
    migrations, the backend, and the frontend (unless another run's `next dev` serves this
    checkout: Next.js runs one per folder). Ctrl-C stops what this run started; a dev
    database another run started keeps running."""
    import subprocess

    from taskchat import serving
    from taskchat.db.local import LocalPostgres, LocalPostgresError
    from taskchat.db.migrate import upgrade
    from taskchat.frontend_dev import (
        FrontendUnavailableError,
        exit_status,
        running_dev_server,
        start_frontend,
        stop_frontend,
    )

    settings = load_settings()
    global _debug
    _debug = _debug or settings.log_level == "DEBUG"
    # Before anything starts: a taken port would only show once the database is up.
    _port_taken(host, port, "--port")
    # Next.js 16 runs one `next dev` per folder, whatever its port: a second one would
    # print why and exit. This run then serves the backend alone (its port is free).
    other_frontend = running_dev_server() if frontend else None
    if frontend and other_frontend is None:
        _port_taken("127.0.0.1", frontend_port, "--frontend-port")
    local: LocalPostgres | None = None
    url = settings.database_url
    if "database_url" not in settings.model_fields_set:
        local = LocalPostgres(root=data_dir.resolve())
        try:
            local.start()
        except LocalPostgresError as error:
            _fail(f"the dev database in {data_dir} could not start: {error}")
        if local.started:
            typer.echo(f"started the dev database in {data_dir} on 127.0.0.1:{local.port}")
        else:
            typer.echo(
                f"using the dev database already running in {data_dir} on "
                f"127.0.0.1:{local.port} (the run that started it stops it)"
            )
        url = local.url
        # The server (and its reloader's child) read the URL from the environment.
        os.environ["DATABASE_URL"] = url
    else:
        from taskchat.db.diagnose import where

        address, _, database = where(url)
        typer.echo(f"database: {database} at {address} (from DATABASE_URL)")
    web: subprocess.Popen[bytes] | None = None
    try:
        _with_database(url, lambda: asyncio.run(upgrade(url)))
        backend_url = f"http://{host}:{port}"
        typer.echo(f"database migrated; backend on {backend_url}")

        def frontend_ended(code: int) -> None:
            # Started, then gone on its own: said once, the backend serving on.
            other = running_dev_server()
            reason = f": {other}" if other is not None else ""
            typer.echo(
                f"the frontend (next dev) {exit_status(code)}{reason}; the backend keeps "
                f"running on {backend_url} (Ctrl-C stops it; --no-frontend runs it alone)"
            )

        if other_frontend is not None:
            typer.echo(
                f"frontend not started: {other_frontend}; this run serves only its backend, "
                "as --no-frontend would"
            )
        elif frontend:
            try:
                web = start_frontend(frontend_port, backend_url, on_exit=frontend_ended)
                typer.echo(f"frontend on http://127.0.0.1:{frontend_port}")
            except FrontendUnavailableError as reason:
                typer.echo(f"frontend not started: {reason}")
        serving.run("taskchat.asgi:app", settings, host=host, port=port, reload=reload)
    finally:
        if web is not None and stop_frontend(web):
            typer.echo("frontend stopped")
        if local is not None and local.started:
            try:
                local.stop()
                typer.echo("local PostgreSQL stopped")
            except LocalPostgresError as error:
                typer.echo(f"local PostgreSQL not stopped: {error}", err=True)


@cli.command()
def mcp(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8001,
) -> None:
    """Serve only the tasks MCP server (streamable HTTP at /mcp, JWT-authenticated)."""
    from taskchat import serving

    settings = _settings()
    _port_taken(host, port, "--port")
    serving.run(
        "taskchat.tools.http:create_mcp_app",
        settings,
        host=host,
        port=port,
        factory=True,
        # The MCP app alone has no proxy-header middleware of its own: uvicorn's applies.
        reads_proxy_headers=False,
    )


@cli.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Bring the database schema to `revision` (default: the newest)."""
    from taskchat.db.migrate import upgrade

    url = _settings().database_url
    _with_database(url, lambda: asyncio.run(upgrade(url, revision)))
    typer.echo(f"database migrated to {revision}")


@cli.command()
def token(
    sub: Annotated[str, typer.Option(help="The user id (the token's subject).")],
    name: Annotated[str | None, typer.Option(help="Display name claim.")] = None,
    ttl: Annotated[int | None, typer.Option(help="Lifetime in seconds.")] = None,
) -> None:
    """Print a development token signed with JWT_SECRET (it needs no database)."""
    from taskchat.auth import mint_token

    settings = load_settings()
    if settings.jwt_jwks_url:
        typer.echo("JWT_JWKS_URL is set: tokens come from your identity provider", err=True)
        raise typer.Exit(2)
    typer.echo(mint_token(settings, sub=sub, name=name, ttl_seconds=ttl))


feedback_cli = typer.Typer(
    help="Votes on answers (👍/👎): operator commands.", no_args_is_help=True
)
cli.add_typer(feedback_cli, name="feedback")


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
    assistant_text, user_message. It holds people's messages: see the README."""
    from taskchat.chat.feedback_export import ExportWriteError, parse_since

    try:
        start = parse_since(since) if since is not None else None
    except ValueError as error:
        _fail(str(error), 2)
    url = _settings().database_url
    try:
        with _csv_output(output) as out:
            written = _with_database(
                url, lambda: asyncio.run(_export_feedback(url, out, start, kind))
            )
    except ExportWriteError as error:
        _fail(str(error))
    where = f"to {output}" if output is not None else "to stdout"
    typer.echo(f"exported {written} vote(s) {where}", err=True)


async def _export_feedback(
    url: str, out: TextIO, since: datetime | None, kind: FeedbackKind | None
) -> int:
    from taskchat.chat.feedback import Kind
    from taskchat.chat.feedback_export import export_feedback
    from taskchat.db.diagnose import schema_problem
    from taskchat.db.engine import create_engine

    chosen: Kind | None = None
    if kind is not None:
        chosen = "positive" if kind is FeedbackKind.positive else "negative"
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        problem = await schema_problem(engine, url)
        if problem is not None:
            _fail(problem)
        return await export_feedback(engine=engine, out=out, since=since, kind=chosen)
    finally:
        await engine.dispose()


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
        _fail(f"cannot write {path}: {error.strerror or error}", 2)
    try:
        with open(descriptor, "w", encoding="utf-8", newline="") as out:
            yield out
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


attachments = typer.Typer(help="Attachment maintenance.", no_args_is_help=True)
cli.add_typer(attachments, name="attachments")


@attachments.command("sweep")
def sweep_attachments(
    older_than_hours: Annotated[
        float, typer.Option(min=1, help="Delete unsent attachments older than this.")
    ] = 24,
) -> None:
    """Delete every user's attachments never sent in a message (and their files), older
    than a day; the backend does it every hour too."""
    from datetime import timedelta

    from taskchat.db.engine import create_engine
    from taskchat.files.sweep import sweep_unsent

    url = _settings().database_url

    async def run() -> int | None:
        engine = create_engine(url, pool_size=1, max_overflow=0)
        try:
            return await sweep_unsent(engine, older_than=timedelta(hours=older_than_hours))
        finally:
            await engine.dispose()

    deleted = _with_database(url, lambda: asyncio.run(run()))
    if deleted is None:
        typer.echo("another process is sweeping right now; nothing done (try again later)")
    else:
        typer.echo(f"deleted {deleted} unsent attachment(s) older than {older_than_hours:g} hours")


def main() -> None:
    """Entry point of the `taskchat` script."""
    cli()


if __name__ == "__main__":
    main()
