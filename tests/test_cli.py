"""The `taskchat` command line."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from taskchat.auth import TokenVerifier, mint_token
from taskchat.db.local import LocalPostgres
from tests.support.ports import free_port
from tests.support.settings import TEST_SECRET, make_settings


def wait_ready(
    port: int, process: subprocess.Popen[str] | subprocess.Popen[bytes]
) -> httpx.Response:
    """/readyz of a server starting in `process`, once it answers."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"the server did not answer (exit code {process.poll()})")


def test_token_mints_a_token_the_backend_accepts(database_url: str) -> None:
    env = {**os.environ, "JWT_SECRET": TEST_SECRET, "ENVIRONMENT": "test"}
    result = subprocess.run(
        [sys.executable, "-m", "taskchat.cli", "token", "--sub", "alice", "--name", "Alice"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    token = result.stdout.strip()
    identity = TokenVerifier(make_settings(database_url)).verify(token)
    assert identity.user_id == "alice"
    assert identity.display_name == "Alice"


def test_serve_runs_the_backend_and_migrate_is_idempotent(database_url: str) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JWT_SECRET": TEST_SECRET,
        "ENVIRONMENT": "test",
        "AUTH_RATE_LIMIT_ADDRESS": "2/minute",
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
    }
    migrated = subprocess.run(
        [sys.executable, "-m", "taskchat.cli", "migrate"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr
    assert "migrated to head" in migrated.stdout
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "taskchat.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ready = wait_ready(port, server)
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        token = mint_token(make_settings(database_url), sub="served")
        listed = httpx.post(
            f"http://127.0.0.1:{port}/chatkit",
            json={"type": "threads.list", "params": {}},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert listed.status_code == 200 and listed.json()["data"] == []

        # Behind a trusted proxy, sign-in limits count the forwarded client address.
        def login_from(address: str) -> int:
            return httpx.post(
                f"http://127.0.0.1:{port}/api/auth/login",
                json={"email": "nobody@example.com", "password": "wrong-password"},
                headers={"X-Forwarded-For": address},
                timeout=10,
            ).status_code

        assert [login_from("192.0.2.10") for _ in range(3)] == [401, 401, 429]
        assert login_from("192.0.2.11") == 401
    finally:
        server.terminate()
        server.wait(timeout=20)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def test_dev_runs_database_backend_and_frontend_and_ctrl_c_stops_all(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"JWT_SECRET": TEST_SECRET, "ENVIRONMENT": "development"})
    port = free_port()
    web_port = free_port()
    data_dir = tmp_path / "pg"
    dev = subprocess.Popen(
        [
            sys.executable, "-m", "taskchat.cli", "dev", "--port", str(port),
            "--data-dir", str(data_dir), "--no-reload", "--frontend-port", str(web_port),
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        ready = wait_ready(port, dev)
        assert ready.status_code == 200, ready.text
        assert (data_dir / "data" / "PG_VERSION").exists()
        assert LocalPostgres(root=data_dir).running()
        # next dev compiles the page on its first request.
        login = f"http://127.0.0.1:{web_port}/login"
        deadline = time.monotonic() + 120
        while not _answers(login):
            assert time.monotonic() < deadline, "the frontend did not answer"
            time.sleep(1)
        # The frontend talks to this backend: its health route reports it ready.
        health = httpx.get(f"http://127.0.0.1:{web_port}/api/health", timeout=30)
        assert health.status_code == 200 and health.json()["backend"]["status"] == "ready"
    finally:
        dev.send_signal(signal.SIGINT)
        output, _ = dev.communicate(timeout=60)
    assert "frontend stopped" in output, output
    assert "local PostgreSQL stopped" in output, output
    assert not LocalPostgres(root=data_dir).running()
    assert not _answers(f"http://127.0.0.1:{web_port}/login")
    assert "password" not in output.lower()


def test_mcp_command_serves_the_tasks_tools_alone(database_url: str) -> None:
    from agents.mcp import MCPServerStreamableHttp

    env = {**os.environ, "DATABASE_URL": database_url, "JWT_SECRET": TEST_SECRET}
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "taskchat.cli", "mcp", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    async def list_tasks(token: str) -> str:
        client = MCPServerStreamableHttp(
            params={
                "url": f"http://127.0.0.1:{port}/mcp",
                "headers": {"Authorization": f"Bearer {token}"},
            },
            client_session_timeout_seconds=10,
        )
        async with client:
            listed = await client.call_tool("list_tasks", {"status": "all"})
        assert not listed.is_error
        return "".join(getattr(part, "text", "") for part in listed.content)

    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        token = mint_token(make_settings(database_url), sub="mcp-only")
        assert asyncio.run(list_tasks(token)) == "No tasks."
    finally:
        server.terminate()
        server.wait(timeout=20)
