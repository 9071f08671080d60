"""Logs: JSON lines with request ids, and never a token, a password or what people wrote."""

from __future__ import annotations

import json
import logging
import secrets

import httpx
import pytest

from taskchat.logs import TracebackThrottle, log_failure
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.protocol import create_thread
from tests.support.served import served, served_env


def test_json_logs_carry_request_ids_and_no_secrets_or_message_text(
    database_url: str, fake_model: FakeOpenAI
) -> None:
    fake_model.script(Reply(text=["Noted."]))
    password = f"pw-{secrets.token_hex(8)}"
    message = f"my locker code is {secrets.token_hex(6)}"
    search = f"find {secrets.token_hex(6)}"
    env = served_env(database_url, fake_model, LOG_FORMAT="json", LOG_LEVEL="INFO")
    with served(env) as backend:
        email = f"logs-{secrets.token_hex(4)}@example.com"
        registered = httpx.post(
            f"{backend.url}/api/auth/register",
            json={"email": email, "password": password, "name": "Log Reader"},
            headers={"X-Request-ID": "req-register"},
            timeout=30,
        )
        assert registered.status_code == 201
        token = registered.json()["token"]
        wrong = httpx.post(
            f"{backend.url}/api/auth/login",
            json={"email": email, "password": password + "-wrong"},
            timeout=30,
        )
        assert wrong.status_code == 401
        headers = {"Authorization": f"Bearer {token}", "X-Request-ID": "req-chat"}
        chat = httpx.post(
            f"{backend.url}/chatkit", json=create_thread(message), headers=headers, timeout=30
        )
        assert chat.status_code == 200 and "Noted." in chat.text
        assert chat.headers["x-request-id"] == "req-chat"
        tasks = httpx.get(f"{backend.url}/api/tasks", params={"q": search}, headers=headers)
        assert tasks.status_code == 200
        backend.stop()
        logs = backend.logs()

    lines = [json.loads(line) for line in logs.splitlines() if line.strip()]
    assert "color_message" not in logs, "uvicorn's terminal-coloured copies in JSON logs"
    access = [line for line in lines if line["logger"] == "taskchat.access"]
    chat_lines = [
        line
        for line in access
        if line.get("request_id") == "req-chat" and line["message"].startswith("POST /chatkit")
    ]
    assert len(chat_lines) == 1 and chat_lines[0]["status"] == 200
    assert any(line.get("request_id") == "req-register" for line in access)
    for needle in (token, token.split(".")[2], password, message, search):
        assert needle not in logs, f"{needle[:12]}... appears in the logs"


def _raise_here(kind: type[Exception]) -> Exception:
    try:
        raise kind("boom")
    except Exception as error:
        return error


def test_a_traceback_is_logged_once_per_distinct_error_in_a_window() -> None:
    throttle = TracebackThrottle(window_seconds=60)
    assert throttle.first(_raise_here(ValueError))
    assert not throttle.first(_raise_here(ValueError)), "same type, same line"
    assert throttle.first(_raise_here(KeyError)), "another type"
    try:
        raise ValueError("raised on another line")
    except ValueError as error:
        assert throttle.first(error)
    again = TracebackThrottle(window_seconds=0)
    assert again.first(_raise_here(ValueError)) and again.first(_raise_here(ValueError))


def test_a_failure_is_one_line_with_its_kind_and_at_most_one_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("taskchat.test-failures")
    caplog.set_level(logging.ERROR, logger="taskchat.test-failures")
    marker = secrets.token_hex(4)
    for _ in range(50):
        log_failure(logger, "failed %s", marker, error=_raise_here(LookupError))
    records = [r for r in caplog.records if marker in r.getMessage()]
    assert len(records) == 50
    assert all("LookupError" in r.getMessage() for r in records)
    assert sum(1 for r in records if r.exc_info) <= 1
