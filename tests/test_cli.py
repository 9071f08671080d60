"""The `taskchat` command line."""

from __future__ import annotations

import os
import subprocess
import sys

from taskchat.auth import TokenVerifier
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
