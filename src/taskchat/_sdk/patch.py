"""One SDK module's global, replaced for the whole process by a seam (`_sdk/seams.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True, slots=True)
class Patch:
    """One SDK module attribute replaced for the whole process."""

    seam: str
    """The seam's name, as the start-up line and docs/sdk-seams.md give it."""

    module: ModuleType
    """The SDK module whose global is replaced (where its callers look it up)."""

    attribute: str
    """The global's name."""

    replacement: object
    """What the SDK's code finds there instead."""


__all__ = ["Patch"]
