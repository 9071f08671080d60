"""Prefixed ids with enough randomness to be unguessable.

The SDK's default ids carry 32 random bits; ours carry 96.
"""

from __future__ import annotations

import secrets

from chatkit.store import StoreItemType

PREFIXES: dict[StoreItemType, str] = {
    "thread": "thr",
    "message": "msg",
    "tool_call": "tc",
    "workflow": "wf",
    "task": "tsk",
    "attachment": "atc",
    "sdk_hidden_context": "shcx",
}

RANDOM_BYTES = 12


def new_id(kind: StoreItemType) -> str:
    """A new id such as `thr_5f0c...` with 96 random bits."""
    return f"{PREFIXES[kind]}_{secrets.token_hex(RANDOM_BYTES)}"
