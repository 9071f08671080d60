"""Logs: JSON lines with request ids, and never a token, a password or what people wrote."""

from __future__ import annotations

import json
import secrets

import httpx

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
