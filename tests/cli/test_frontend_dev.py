"""frontend_dev: the dev server's output reaches ours without its cursor codes, and its
end is noticed."""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path

import pytest

from taskchat.cli.frontend_dev import (
    DEV_LOCK,
    CursorCodeFilter,
    running_dev_server,
    start_frontend,
    stop_frontend,
)

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
# cursor and says goodbye, as next dev does. Ready only once it listens for SIGTERM: the
# other way round, a busy machine could stop it in between (3 in 50 stops did).
DEV_SERVER = """
process.on("SIGTERM", () => {
  process.stdout.write("\\x1B[?25h");
  process.stdout.write("\\nstopped\\n", () => process.exit(0));
});
process.stdout.write("ready\\n");
setInterval(() => {}, 1000);
"""


def test_stopping_the_dev_server_prints_no_cursor_code(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    stand_in(tmp_path, DEV_SERVER)
    ended: list[int] = []
    process = start_frontend(3999, "http://127.0.0.1:1", folder=tmp_path, on_exit=ended.append)
    deadline = time.monotonic() + 30
    seen = ""
    while "ready" not in seen:
        assert time.monotonic() < deadline, "the stand-in dev server did not start"
        time.sleep(0.05)
        seen += capfd.readouterr().out
    assert stop_frontend(process) is True
    seen += capfd.readouterr().out
    assert seen.endswith("ready\n\nstopped\n"), seen
    assert "\x1b" not in seen
    # Stopped by us: no news.
    assert process.watch_thread is not None
    process.watch_thread.join(5)
    assert ended == []


def stand_in(folder: Path, script: str) -> None:
    """A frontend in `folder` whose `npm run dev` runs `script` with node."""
    (folder / "package.json").write_text(
        json.dumps({"name": "stand-in", "private": True, "scripts": {"dev": "node dev.js"}})
    )
    (folder / "dev.js").write_text(script)
    (folder / "node_modules").mkdir()


# A stand-in for a `next dev` that refuses to start, as Next.js 16 does when another runs in
# its folder (it says so, then exits with code 1).
REFUSING_DEV_SERVER = """
process.stdout.write("Another next dev server is already running.\\n", () => process.exit(1));
"""


def test_a_dev_server_ending_on_its_own_is_reported_after_its_last_words(
    tmp_path: Path,
) -> None:
    stand_in(tmp_path, REFUSING_DEV_SERVER)
    output = io.BytesIO()
    told = threading.Event()
    ended: list[tuple[int, bytes]] = []

    def on_exit(code: int) -> None:
        ended.append((code, output.getvalue()))
        told.set()

    process = start_frontend(
        3999, "http://127.0.0.1:1", folder=tmp_path, output=output, on_exit=on_exit
    )
    assert told.wait(30), "the end of the dev server went unnoticed"
    [(code, said)] = ended
    assert code == 1 and said.endswith(b"Another next dev server is already running.\n"), said
    # Nothing was left to stop, and stopping says so.
    assert stop_frontend(process) is False


def test_a_lock_file_nobody_holds_is_no_running_dev_server(tmp_path: Path) -> None:
    # What a crashed `next dev` leaves behind: the file, no longer locked.
    assert running_dev_server(tmp_path) is None
    lock = tmp_path / DEV_LOCK
    lock.parent.mkdir(parents=True)
    lock.write_text(json.dumps({"pid": 1, "port": 3000, "appUrl": "http://127.0.0.1:3000"}))
    assert running_dev_server(tmp_path) is None
