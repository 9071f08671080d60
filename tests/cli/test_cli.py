"""The `taskchat` command line."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx

from taskchat.auth import TokenVerifier, mint_token
from taskchat.chat.feedback.votes import Kind, record_feedback
from taskchat.chat.store.postgres import PostgresStore
from taskchat.context import RequestContext
from taskchat.db.engine import user_transaction_raw
from taskchat.db.local import LocalPostgres
from tests.support.ports import free_port
from tests.support.settings import TEST_SECRET, make_settings
from tests.support.threads import BASE, assistant_message, make_thread, user_message


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
        # The first /chatkit waits for the chat machinery, which loads after readiness
        # (api/services.py): seconds on a busy machine, more than httpx's default 5.
        listed = httpx.post(
            f"http://127.0.0.1:{port}/chatkit",
            json={"type": "threads.list", "params": {}},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
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
            sys.executable,
            "-m",
            "taskchat.cli",
            "dev",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--no-reload",
            "--frontend-port",
            str(web_port),
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
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


def _dev_env() -> dict[str, str]:
    """Development with no DATABASE_URL: `taskchat dev` runs the checkout's own database."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"JWT_SECRET": TEST_SECRET, "ENVIRONMENT": "development"})
    return env


def _start_dev(
    checkout: Path, port: int, frontend_port: int | None = None
) -> subprocess.Popen[str]:
    """`taskchat dev` in `checkout` (its database in checkout/.local/postgres), with the
    frontend on `frontend_port` if given (it is always this project's frontend/)."""
    frontend = ["--frontend-port", str(frontend_port)] if frontend_port else ["--no-frontend"]
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "taskchat.cli",
            "dev",
            "--port",
            str(port),
            "--no-reload",
            *frontend,
        ],
        env=_dev_env(),
        cwd=checkout,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    return output


def test_a_second_dev_run_reuses_the_database_and_never_stops_the_first(tmp_path: Path) -> None:
    port = free_port()
    first = _start_dev(tmp_path, port)
    database = LocalPostgres(root=tmp_path / ".local" / "postgres")
    try:
        assert wait_ready(port, first).status_code == 200
        readyz = f"http://127.0.0.1:{port}/readyz"

        # The same backend port: refused in one line naming the option, nothing started
        # (nor stopped: the first backend's database stays up).
        taken = subprocess.run(
            [sys.executable, "-m", "taskchat.cli", "dev", "--port", str(port), "--no-frontend"],
            env=_dev_env(),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert taken.returncode != 0
        assert httpx.get(readyz, timeout=5).status_code == 200
        assert f"port {port}" in taken.stderr and "--port" in taken.stderr, taken.stderr
        assert len((taken.stdout + taken.stderr).strip().splitlines()) == 1
        kept_port = database.live_port()
        assert kept_port is not None
        assert int((tmp_path / ".local" / "postgres" / "port").read_text()) == kept_port

        # Another port: it runs on the same database, and stopping it leaves it running.
        other = free_port()
        second = _start_dev(tmp_path, other)
        try:
            assert wait_ready(other, second).status_code == 200
        finally:
            second_output = _stop(second)
        assert "already running" in second_output, second_output
        assert "stopped" not in second_output and "Traceback" not in second_output
        assert database.live_port() == kept_port
        assert httpx.get(readyz, timeout=5).status_code == 200
    finally:
        first_output = _stop(first)
    assert "local PostgreSQL stopped" in first_output, first_output
    assert "Traceback" not in first_output, first_output
    assert not database.running()


def test_a_second_dev_run_leaves_the_frontend_to_the_first_and_says_so(tmp_path: Path) -> None:
    # Next.js 16 runs one `next dev` per folder, and every run uses this project's frontend/.
    port, web_port = free_port(), free_port()
    first = _start_dev(tmp_path, port, frontend_port=web_port)
    database = LocalPostgres(root=tmp_path / ".local" / "postgres")
    first_health = f"http://127.0.0.1:{web_port}/api/health"
    try:
        assert wait_ready(port, first).status_code == 200
        deadline = time.monotonic() + 120
        while not _answers(first_health):
            assert time.monotonic() < deadline, "the first frontend did not answer"
            time.sleep(1)

        other, other_web = free_port(), free_port()
        second = _start_dev(tmp_path, other, frontend_port=other_web)
        try:
            assert wait_ready(other, second).status_code == 200
        finally:
            second_output = _stop(second)
        # One line naming the running app and the way to ask for the backend alone; no
        # claim of a frontend on the other port, nor of stopping one.
        told = [line for line in second_output.splitlines() if "next dev" in line]
        assert len(told) == 1, second_output
        assert told[0].startswith("frontend not started: ")
        assert f"http://127.0.0.1:{web_port}" in told[0] and "--no-frontend" in told[0]
        assert f":{other_web}" not in second_output, second_output
        assert "stopped" not in second_output and "Traceback" not in second_output
        # The first run's app still serves, with its own backend.
        health = httpx.get(first_health, timeout=30)
        assert health.status_code == 200 and health.json()["backend"]["status"] == "ready"
    finally:
        first_output = _stop(first)
    assert "frontend stopped" in first_output and "local PostgreSQL stopped" in first_output
    assert not database.running()


def test_a_frontend_that_dies_is_told_once_and_the_backend_keeps_serving(tmp_path: Path) -> None:
    from taskchat.cli.frontend_dev import FRONTEND_DIR

    port, web_port = free_port(), free_port()
    dev = _start_dev(tmp_path, port, frontend_port=web_port)
    lines: list[str] = []
    assert dev.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(dev.stdout or ()), daemon=True)
    reader.start()
    try:
        assert wait_ready(port, dev).status_code == 200
        deadline = time.monotonic() + 120
        while not _answers(f"http://127.0.0.1:{web_port}/api/health"):
            assert time.monotonic() < deadline, "the frontend did not answer"
            time.sleep(1)
        # Killed, as a crash would end it: the Next.js server, named in its lock file.
        server = json.loads((FRONTEND_DIR / ".next" / "dev" / "lock").read_text())
        os.kill(server["pid"], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while not any("the frontend (next dev) exited" in line for line in lines):
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
    finally:
        dev.send_signal(signal.SIGINT)
        dev.wait(timeout=60)
        reader.join(10)
        dev.stdout.close()
    output = "".join(lines)
    [told] = [line for line in lines if "the frontend (next dev)" in line]
    assert f"keeps running on http://127.0.0.1:{port}" in told, output
    # Nothing was left to stop, and nothing claims it.
    assert "frontend stopped" not in output and "Traceback" not in output, output
    assert "local PostgreSQL stopped" in output, output


def test_commands_without_settings_use_the_running_dev_database(tmp_path: Path) -> None:
    env = _dev_env()
    migrate = [sys.executable, "-m", "taskchat.cli", "migrate"]
    port = free_port()
    dev = _start_dev(tmp_path, port)
    try:
        assert wait_ready(port, dev).status_code == 200
        migrated = subprocess.run(
            migrate, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert migrated.returncode == 0, migrated.stderr
        assert "migrated to head" in migrated.stdout
        kept = (tmp_path / ".local" / "postgres" / "port").read_text().strip()
        assert "dev database" in migrated.stderr and f"127.0.0.1:{kept}" in migrated.stderr
    finally:
        _stop(dev)
    # Stopped: said so, with what to do, instead of trying localhost:5432.
    stopped = subprocess.run(
        migrate, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert stopped.returncode == 2
    assert "not running" in stopped.stderr and "make dev" in stopped.stderr, stopped.stderr
    assert len(stopped.stderr.strip().splitlines()) <= 2


def _migrate_with(url: str, *options: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "JWT_SECRET": TEST_SECRET}
    env.pop("LOG_LEVEL", None)
    return subprocess.run(
        [sys.executable, "-m", "taskchat.cli", *options, "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_unreachable_database_url_is_told_in_a_few_lines(tmp_path: Path) -> None:
    port = free_port()  # nobody listens there
    result = _migrate_with(f"postgresql://taskchat:secret@127.0.0.1:{port}/taskchat")
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 1
    assert len(output.splitlines()) <= 5, output
    assert "DATABASE_URL" in output and f"127.0.0.1:{port}" in output, output
    assert "Traceback" not in output and "secret" not in output
    debug = _migrate_with(f"postgresql://taskchat:secret@127.0.0.1:{port}/taskchat", "--debug")
    assert debug.returncode == 1 and "Traceback" in debug.stderr


def test_refused_credentials_and_a_missing_database_are_told_in_a_few_lines(
    database_url: str,
) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    wrong = url.set(password="wrong-password").render_as_string(hide_password=False)
    refused = _migrate_with(wrong)
    assert refused.returncode == 1
    assert "refused the password" in refused.stderr and "DATABASE_URL" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) <= 5, refused.stderr
    missing = url.set(database="no_such_database").render_as_string(hide_password=False)
    absent = _migrate_with(missing)
    assert absent.returncode == 1
    assert "does not exist" in absent.stderr and "DATABASE_URL" in absent.stderr, absent.stderr


def test_serve_on_an_unmigrated_database_says_what_to_run(database_url: str) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    name = f"empty_{os.getpid()}_{int(time.time())}"

    async def create_database() -> None:
        conn = await asyncpg.connect(
            user=url.username,
            password=url.password,
            host=url.host,
            port=url.port,
            database=url.database,
        )
        try:
            await conn.execute(f"CREATE DATABASE {name}")
        finally:
            await conn.close()

    asyncio.run(create_database())
    env = {
        **os.environ,
        "DATABASE_URL": url.set(database=name).render_as_string(hide_password=False),
        "JWT_SECRET": TEST_SECRET,
        "ENVIRONMENT": "test",
        "LOG_FORMAT": "text",
    }
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "taskchat.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_ready(port, server).status_code == 503
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert "DATABASE_URL" in output and "taskchat migrate" in output, output
    assert f"{url.host}:{url.port}" in output and "Traceback" not in output, output


def _export(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JWT_SECRET": TEST_SECRET,
        "ENVIRONMENT": "test",
    }
    return subprocess.run(
        [sys.executable, "-m", "taskchat.cli", "feedback", "export", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


async def test_feedback_export_writes_every_users_votes_as_csv_with_its_filters(
    database_url: str, store: PostgresStore, new_user: Callable[[], str], tmp_path: Path
) -> None:
    alice, bob = RequestContext(user_id=new_user()), RequestContext(user_id=new_user())
    voted: dict[str, tuple[str, str]] = {}
    votes: list[tuple[RequestContext, str, Kind]] = [
        (alice, "An old answer.", "negative"),
        (alice, "A good answer.", "positive"),
        (bob, "Bob's bad answer.", "negative"),
    ]
    for context, text_, kind in votes:
        thread = make_thread()
        await store.save_thread(thread, context)
        question = user_message(thread.id, f"Question before {text_}")
        answer = assistant_message(thread.id, text_, BASE + timedelta(seconds=1))
        for item in (question, answer):
            await store.add_thread_item(thread.id, item, context)
        await record_feedback(
            engine=store.engine,
            user_id=context.user_id,
            thread_id=thread.id,
            item_ids=[answer.id],
            kind=kind,
        )
        voted[answer.id] = (thread.id, text_)
    old = next(iter(voted))
    async with user_transaction_raw(store.engine, alice.user_id) as conn:
        await conn.execute(
            "UPDATE chat_feedback SET updated_at = '2020-05-01T00:00:00Z' WHERE item_id = $1", old
        )

    def ours(csv_text: str) -> dict[str, dict[str, str]]:
        rows = csv.DictReader(io.StringIO(csv_text, newline=""))
        return {row["item_id"]: row for row in rows if row["item_id"] in voted}

    everything = await asyncio.to_thread(_export, database_url)
    assert everything.returncode == 0, everything.stderr
    header = everything.stdout.splitlines()[0]
    assert header == "thread_id,item_id,kind,time,assistant_text,user_message"
    rows = ours(everything.stdout)
    assert set(rows) == set(voted)  # both users' votes
    for item_id, row in rows.items():
        assert (row["thread_id"], row["assistant_text"]) == voted[item_id]
        assert row["user_message"] == f"Question before {voted[item_id][1]}"
    assert "exported" in everything.stderr and "to stdout" in everything.stderr

    target = tmp_path / "negative.csv"
    chosen = await asyncio.to_thread(
        _export,
        database_url,
        "--kind",
        "negative",
        "--since",
        "2021-01-01",
        "--output",
        str(target),
    )
    assert chosen.returncode == 0, chosen.stderr
    assert chosen.stdout == ""
    assert f"to {target}" in chosen.stderr
    assert set(ours(target.read_text(encoding="utf-8"))) == {
        item for item, (_, text_) in voted.items() if text_ == "Bob's bad answer."
    }
    assert target.stat().st_mode & 0o777 == 0o600  # it holds people's messages
    assert os.listdir(tmp_path) == ["negative.csv"]  # no partial file left


def test_feedback_export_refuses_a_bad_filter_in_one_line(database_url: str) -> None:
    bad_since = _export(database_url, "--since", "yesterday")
    assert bad_since.returncode == 2
    assert bad_since.stderr.strip().splitlines() == [
        "--since 'yesterday' is neither a date (2026-11-30) nor an ISO time (2026-11-30T09:00:00Z)"
    ]
    bad_kind = _export(database_url, "--kind", "meh")
    assert bad_kind.returncode == 2 and "positive" in bad_kind.stderr
    nowhere = _export(database_url, "--output", "/nonexistent/folder/votes.csv")
    assert nowhere.returncode == 2
    assert nowhere.stderr.strip().splitlines() == [
        "cannot write /nonexistent/folder/votes.csv: No such file or directory"
    ]
    assert "Traceback" not in bad_since.stderr + bad_kind.stderr


def test_attachments_sweep_deletes_old_unsent_attachments(database_url: str) -> None:
    from datetime import timedelta

    from chatkit.types import FileAttachment

    from taskchat.chat.store.postgres import PostgresStore, chat_id
    from taskchat.context import RequestContext
    from taskchat.db.engine import user_transaction_raw

    context = RequestContext(user_id=f"sweep-{os.getpid()}-{time.monotonic_ns()}")

    async def make(age: timedelta) -> str:
        store = PostgresStore.from_url(database_url)
        try:
            made = FileAttachment(id=chat_id("attachment"), name="a.txt", mime_type="text/plain")
            await store.save_attachment(made, context)
            async with user_transaction_raw(store.engine, context.user_id) as conn:
                await conn.execute(
                    "UPDATE chat_attachments SET created_at = now() - $2::interval WHERE id = $1",
                    made.id,
                    age,
                )
            return made.id
        finally:
            await store.engine.dispose()

    async def left() -> set[str]:
        store = PostgresStore.from_url(database_url)
        try:
            async with user_transaction_raw(store.engine, context.user_id) as conn:
                rows = await conn.fetch("SELECT id FROM chat_attachments")
            return {row["id"] for row in rows}
        finally:
            await store.engine.dispose()

    asyncio.run(make(timedelta(hours=30)))
    recent = asyncio.run(make(timedelta(hours=3)))
    env = {**os.environ, "DATABASE_URL": database_url, "ENVIRONMENT": "test"}
    command = [sys.executable, "-m", "taskchat.cli", "attachments", "sweep"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    assert result.stdout.startswith("deleted ") and "older than 24 hours" in result.stdout
    assert asyncio.run(left()) == {recent}
    sooner = subprocess.run(
        [*command, "--older-than-hours", "2"], capture_output=True, text=True, env=env, check=True
    )
    assert "older than 2 hours" in sooner.stdout
    assert asyncio.run(left()) == set()
