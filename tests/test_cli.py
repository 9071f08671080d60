"""The `taskchat` command line."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from taskchat.auth import TokenVerifier, mint_token
from taskchat.db.local import free_port
from tests.conftest import TEST_SECRET, make_settings


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
        deadline = time.monotonic() + 60
        ready: httpx.Response | None = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert ready is not None, "taskchat serve did not answer"
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        token = mint_token(make_settings(database_url), sub="served")
        listed = httpx.post(
            f"http://127.0.0.1:{port}/chatkit",
            json={"type": "threads.list", "params": {}},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert listed.status_code == 200 and listed.json()["data"] == []
    finally:
        server.terminate()
        server.wait(timeout=20)
