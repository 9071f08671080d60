"""The built-in chat UI's protocol schema is the pinned SDK's (scripts/protocol_schema.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "protocol_schema.py"
SCHEMA = ROOT / "frontend" / "lib" / "protocol" / "chatkit.schema.json"


def _check() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )


def test_the_committed_schema_is_the_one_the_sdk_gives() -> None:
    result = _check()
    assert result.returncode == 0, result.stderr


def test_what_the_server_always_sends_is_required_and_tags_are_required_to_send() -> None:
    definitions = json.loads(SCHEMA.read_text())["$defs"]
    # Sent: a default other than None is always there (the SDK dumps with exclude_none).
    assert {"type", "content", "id"} <= set(definitions["AssistantMessageItem"]["required"])
    assert "after" not in definitions["ThreadPage"]["required"]
    # Received: a union member is told by its tag, so a request must carry it.
    assert "type" in definitions["ThreadsCreateReq"]["required"]
    assert "metadata" not in definitions["ThreadsCreateReq"]["required"]
