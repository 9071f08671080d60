"""The `taskchat` command: serve, migrate, token."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

from taskchat.config import load_settings

cli = typer.Typer(help="Taskchat: a self-hosted ChatKit task assistant.", no_args_is_help=True)


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

    settings = load_settings()  # fail here, with a clear line, rather than inside a worker
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
    migrations, the backend, and the frontend. Ctrl-C stops everything."""
    import subprocess

    from taskchat import serving
    from taskchat.db.local import LocalPostgres
    from taskchat.db.migrate import upgrade
    from taskchat.frontend_dev import FrontendUnavailableError, start_frontend, stop_frontend

    settings = load_settings()
    local: LocalPostgres | None = None
    url = settings.database_url
    if "database_url" not in settings.model_fields_set:
        local = LocalPostgres(root=data_dir.resolve())
        typer.echo(f"starting a local PostgreSQL in {local.root}")
        local.start()
        url = local.url
        # The server (and its reloader's child) read the URL from the environment.
        os.environ["DATABASE_URL"] = url
    web: subprocess.Popen[bytes] | None = None
    try:
        asyncio.run(upgrade(url))
        typer.echo(f"database migrated; backend on http://{host}:{port}")
        if frontend:
            try:
                web = start_frontend(frontend_port, f"http://{host}:{port}")
                typer.echo(f"frontend on http://127.0.0.1:{frontend_port}")
            except FrontendUnavailableError as reason:
                typer.echo(f"frontend not started: {reason}")
        serving.run("taskchat.asgi:app", settings, host=host, port=port, reload=reload)
    finally:
        if web is not None:
            stop_frontend(web)
            typer.echo("frontend stopped")
        if local is not None:
            local.stop()
            typer.echo("local PostgreSQL stopped")


@cli.command()
def mcp(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8001,
) -> None:
    """Serve only the tasks MCP server (streamable HTTP at /mcp, JWT-authenticated)."""
    from taskchat import serving

    settings = load_settings()
    serving.run("taskchat.tools.http:create_mcp_app", settings, host=host, port=port, factory=True)


@cli.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Bring the database schema to `revision` (default: the newest)."""
    from taskchat.db.migrate import upgrade

    settings = load_settings()
    asyncio.run(upgrade(settings.database_url, revision))
    typer.echo(f"database migrated to {revision}")


@cli.command()
def token(
    sub: Annotated[str, typer.Option(help="The user id (the token's subject).")],
    name: Annotated[str | None, typer.Option(help="Display name claim.")] = None,
    ttl: Annotated[int | None, typer.Option(help="Lifetime in seconds.")] = None,
) -> None:
    """Print a development token signed with JWT_SECRET."""
    from taskchat.auth import mint_token

    settings = load_settings()
    if settings.jwt_jwks_url:
        typer.echo("JWT_JWKS_URL is set: tokens come from your identity provider", err=True)
        raise typer.Exit(2)
    typer.echo(mint_token(settings, sub=sub, name=name, ttl_seconds=ttl))


def main() -> None:
    """Entry point of the `taskchat` script."""
    cli()


if __name__ == "__main__":
    main()
