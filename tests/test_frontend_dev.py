"""frontend_dev: the dev server's output reaches ours without its cursor codes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from taskchat.frontend_dev import CursorCodeFilter, start_frontend, stop_frontend

SHOW, HIDE = b"\x1b[?25h", b"\x1b[?25l"


def filtered(*chunks: bytes) -> bytes:
    codes = CursorCodeFilter()
    return b"".join(codes.feed(chunk) for chunk in chunks) + codes.flush()


def test_the_filter_drops_cursor_codes_even_split_across_reads() -> None:
    assert filtered(b"ready\n" + SHOW + b"\n") == b"ready\n\n"
    assert filtered(b"a" + HIDE + b"b" + SHOW + b"c") == b"abc"
    whole = b"compiling " + HIDE + b"done\n" + SHOW + b"\nbye\n"
    for cut in range(len(whole) + 1):
        assert filtered(whole[:cut], whole[cut:]) == b"compiling done\n\nbye\n", cut
    assert filtered(*(bytes([byte]) for byte in whole)) == b"compiling done\n\nbye\n"


def test_the_filter_keeps_everything_else() -> None:
    colored = b"\x1b[32m\xe2\x9c\x93 Ready\x1b[39m in 1.2s\n"
    assert filtered(colored) == colored
    # The start of a code with nothing after it is text, passed on at the end.
    assert filtered(b"50% ", b"\x1b[?2") == b"50% \x1b[?2"
    assert filtered(b"\x1b[?25x") == b"\x1b[?25x"


# A stand-in for `next dev` (a test fixture): says it is ready, and on SIGTERM shows the
# cursor and says goodbye, as next dev does.
DEV_SERVER = """
process.stdout.write("ready\\n");
process.on("SIGTERM", () => {
  process.stdout.write("\\x1B[?25h");
  process.stdout.write("\\nstopped\\n", () => process.exit(0));
});
setInterval(() => {}, 1000);
"""


def test_stopping_the_dev_server_prints_no_cursor_code(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "package.json").write_text(
        json.dumps({"name": "stand-in", "private": True, "scripts": {"dev": "node dev.js"}})
    )
    (tmp_path / "dev.js").write_text(DEV_SERVER)
    (tmp_path / "node_modules").mkdir()
    process = start_frontend(3999, "http://127.0.0.1:1", folder=tmp_path)
    deadline = time.monotonic() + 30
    seen = ""
    while "ready" not in seen:
        assert time.monotonic() < deadline, "the stand-in dev server did not start"
        time.sleep(0.05)
        seen += capfd.readouterr().out
    stop_frontend(process)
    seen += capfd.readouterr().out
    assert seen.endswith("ready\n\nstopped\n"), seen
    assert "\x1b" not in seen
