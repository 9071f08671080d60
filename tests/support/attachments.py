"""Attachments in tests: real image bytes, and the two-phase upload as a client makes it."""

from __future__ import annotations

import struct
import zlib
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.support.protocol import auth


def png(width: int = 1, height: int = 1) -> bytes:
    """A valid PNG of `width` x `height` red pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def create_request(name: str, mime_type: str, size: int) -> dict[str, Any]:
    return {
        "type": "attachments.create",
        "params": {"name": name, "size": size, "mime_type": mime_type},
    }


async def create(
    client: httpx.AsyncClient, token: str, name: str, mime_type: str, size: int = 100
) -> httpx.Response:
    """attachments.create through /chatkit."""
    return await client.post(
        "/chatkit", json=create_request(name, mime_type, size), headers=auth(token)
    )


async def upload(
    client: httpx.AsyncClient,
    token: str,
    attachment_id: str,
    content: bytes,
    name: str = "file",
    content_type: str = "application/octet-stream",
) -> httpx.Response:
    """The second phase: the file, as multipart/form-data in its `file` field."""
    return await client.post(
        f"/api/attachments/{attachment_id}/upload",
        files={"file": (name, content, content_type)},
        headers=auth(token),
    )


async def uploaded(
    client: httpx.AsyncClient, token: str, name: str, mime_type: str, content: bytes
) -> dict[str, Any]:
    """An attachment made and uploaded, ready to send (as the upload answered it)."""
    made = await create(client, token, name, mime_type, len(content))
    assert made.status_code == 200, made.text
    path = urlsplit(made.json()["upload_descriptor"]["url"]).path
    assert path == f"/api/attachments/{made.json()['id']}/upload"
    done = await upload(client, token, made.json()["id"], content, name, mime_type)
    assert done.status_code == 200, done.text
    body: dict[str, Any] = done.json()
    return body


def message_with(text: str, *attachment_ids: str) -> dict[str, Any]:
    """A message input carrying attachments."""
    return {
        "content": [{"type": "input_text", "text": text}],
        "attachments": list(attachment_ids),
        "inference_options": {},
    }


def create_thread_with(text: str, *attachment_ids: str) -> dict[str, Any]:
    return {"type": "threads.create", "params": {"input": message_with(text, *attachment_ids)}}


def add_message_with(thread_id: str, text: str, *attachment_ids: str) -> dict[str, Any]:
    return {
        "type": "threads.add_user_message",
        "params": {"thread_id": thread_id, "input": message_with(text, *attachment_ids)},
    }
