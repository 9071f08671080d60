"""The backend half of the frontend's tests in one process: `python -m tests.support.stack`.

It starts a migrated PostgreSQL (`TEST_DATABASE_URL`, or a throwaway server), the scripted
model server and the app under uvicorn, then prints their addresses as one JSON line on
standard output. It stops them all when its standard input closes or it gets SIGTERM, so
the test run that started it cannot leave a database server behind.

`TASKCHAT_STACK_SETTINGS`, a JSON object of backend settings by field name, overrides the
test defaults (a frontend test file's own sign-in limits, say).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
from types import FrameType

from taskchat.app import create_app
from taskchat.config import Settings
from taskchat.db.local import migrated_database
from tests.support.fake_openai import FakeOpenAI
from tests.support.live import LiveServer
from tests.support.settings import SCRIPTED_MODEL


def _exit(signum: int, frame: FrameType | None) -> None:
    # Unwinds through the `finally` blocks below, which stop the servers.
    raise SystemExit(0)


def main() -> None:
    """Start the stack, announce it, and hold it until told to stop."""
    signal.signal(signal.SIGTERM, _exit)
    given = os.environ.get("TEST_DATABASE_URL")
    normalized = Settings(_env_file=None, database_url=given).database_url if given else None
    with migrated_database(normalized) as database_url:
        model = FakeOpenAI()
        model.start()
        try:
            overrides = json.loads(os.environ.get("TASKCHAT_STACK_SETTINGS") or "{}")
            settings = Settings(
                _env_file=None,
                environment="test",
                database_url=database_url,
                model_base_url=model.base_url,
                # Overrides may fix the secret, for a test that mints its own tokens.
                **{"jwt_secret": secrets.token_hex(32), **SCRIPTED_MODEL, **overrides},
            )
            # Trusting X-Forwarded-* from the proxies FORWARDED_ALLOW_IPS names, as under
            # `taskchat serve` (the app reads them itself, api/middleware.py).
            backend = LiveServer(create_app(settings))
            backend.start()
            try:
                announcement = {
                    "backend_url": backend.url,
                    "model_url": f"http://127.0.0.1:{model.port}",
                }
                sys.stdout.write(json.dumps(announcement) + "\n")
                sys.stdout.flush()
                sys.stdin.read()
            finally:
                backend.stop()
        finally:
            model.stop()


if __name__ == "__main__":
    main()
