"""The `taskchat` command: serve, migrate, token, mcp, dev, feedback export, attachments."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

from taskchat.cli.common import command_settings, fail, show_tracebacks, with_database
from taskchat.cli.operator import attachments_cli, feedback_cli
from taskchat.config import load_settings

cli = typer.Typer(help="Taskchat: a self-hosted ChatKit task assistant.", no_args_is_help=True)


@cli.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks (also with LOG_LEVEL=DEBUG).")
    ] = False,
) -> None:
    if debug:
        show_tracebacks()


def _port_taken(host: str, port: int, option: str) -> None:
    from taskchat.cli.serving import port_in_use

    if port_in_use(host, port):
        fail(
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
    from taskchat.cli import serving

    settings = command_settings()  # fail here, with a clear line, rather than inside a worker
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

    from taskchat.cli import serving
    from taskchat.cli.frontend_dev import (
        FrontendUnavailableError,
        exit_status,
        running_dev_server,
        start_frontend,
        stop_frontend,
    )
    from taskchat.db.local import LocalPostgres, LocalPostgresError
    from taskchat.db.migrate import upgrade

    settings = load_settings()
    if settings.log_level == "DEBUG":
        show_tracebacks()
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
            fail(f"the dev database in {data_dir} could not start: {error}")
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
        with_database(url, lambda: asyncio.run(upgrade(url)))
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
    from taskchat.cli import serving

    settings = command_settings()
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

    url = command_settings().database_url
    with_database(url, lambda: asyncio.run(upgrade(url, revision)))
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


cli.add_typer(feedback_cli, name="feedback")
cli.add_typer(attachments_cli, name="attachments")


def main() -> None:
    """Entry point of the `taskchat` script."""
    cli()
