"""The one generator of Taskchat's ids: a short prefix naming the kind, then 96 random bits.

The ChatKit SDK's default ids carry 32 random bits; guessable ids would make "another
user's id answers like a missing one" the only wall instead of one of two.
"""

from __future__ import annotations

import secrets

RANDOM_BYTES = 12
"""Random bytes per id (96 bits), written as hex."""


def new_id(prefix: str) -> str:
    """A new id such as `thr_5f0c...`: `prefix`, an underscore, 24 hex digits."""
    return f"{prefix}_{secrets.token_hex(RANDOM_BYTES)}"
