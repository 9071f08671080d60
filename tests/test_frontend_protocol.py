"""What the frontend hard-codes about the ChatKit protocol agrees with the SDK's types."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from chatkit.types import StreamingReq

CHAT_REFUSAL = (
    Path(__file__).resolve().parents[1] / "frontend" / "lib" / "shared" / "chatRefusal.ts"
)


def test_the_frontends_streaming_request_types_are_the_sdks() -> None:
    source = CHAT_REFUSAL.read_text()
    listed = re.search(r"STREAMING_REQUESTS[^\[]*\[([^\]]*)\]", source)
    assert listed, "STREAMING_REQUESTS not found"
    ours = set(re.findall(r'"([a-z_.]+)"', listed.group(1)))
    sdk = {
        typing.get_args(member.model_fields["type"].annotation)[0]
        for member in typing.get_args(StreamingReq)
    }
    assert ours == sdk


def test_the_frontends_tasks_changed_effect_is_the_servers() -> None:
    from taskchat.chat.widgets.tasks import TASKS_CHANGED

    source = (CHAT_REFUSAL.parents[0] / "tasks.ts").read_text()
    assert f'export const TASKS_CHANGED = "{TASKS_CHANGED}";' in source


def test_the_frontends_attachment_kinds_and_count_are_the_servers() -> None:
    from taskchat.chat.store.attachments import PER_MESSAGE_MAX
    from taskchat.files.kinds import KINDS

    source = (CHAT_REFUSAL.parents[0] / "attachments.ts").read_text()
    assert f"export const ATTACHMENTS_PER_MESSAGE = {PER_MESSAGE_MAX};" in source
    block = re.search(r"ATTACHMENT_TYPES[^{]*\{([^}]*)\}", source)
    assert block, "ATTACHMENT_TYPES not found"
    ours = {
        mime: re.findall(r'"(\.[a-z]+)"', endings)
        for mime, endings in re.findall(r'"([a-z/+.-]+)": \[([^\]]*)\]', block.group(1))
    }
    assert ours == {kind.mime: list(kind.extensions) for kind in KINDS}
